// Declarative thresholds: one grammar (parse.ts), one evaluator (evaluate.ts) over named metrics (metrics.ts),
// the catalog of metric names runners produce (catalog.ts) and the --threshold-* presets (presets.ts).
export * from "./metrics.ts";
export * from "./parse.ts";
export * from "./units.ts";
export * from "./rules.ts";
export * from "./catalog.ts";
export * from "./evaluate.ts";
export * from "./presets.ts";

// Declarative thresholds: one grammar (parse.ts), one evaluator (evaluate.ts) over the named metrics runners
// produce (src/results/metric-set.ts), the catalog of those names (catalog.ts) and the --threshold-* presets
// (presets.ts).
export * from "./parse.ts";
export * from "./units.ts";
export * from "./rules.ts";
export * from "./catalog.ts";
export * from "./evaluate.ts";
export * from "./presets.ts";

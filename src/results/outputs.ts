// Coder's `--output` flag: repeatable `<format>[:<path>]`, format `text` or `json`; no path (or
// `-`) means stdout, at most one spec may use stdout; default `text` on stdout.
// (cli/exp_scaletest.go scaletestOutputFlags.parse)
import { resolve } from "node:path";
import { redact } from "../util/redact.ts";
import { BadInputError } from "../util/errors.ts";
import { writeFileAtomic } from "./atomic.ts";

/** text: the summary people read; json: the phase record (result.json); harness: Coder's harness JSON. */
export const OUTPUT_FORMATS = ["text", "json", "harness"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface OutputSpec {
  format: OutputFormat;
  /** File path; absent = stdout. */
  path?: string;
}

export const DEFAULT_OUTPUT_SPECS: readonly string[] = ["text"];

/** Parses `--output` values. Empty list = default (`text` to stdout). Throws one clear error on bad input. */
export function parseOutputSpecs(specs: readonly string[]): OutputSpec[] {
  const list = specs.length === 0 ? DEFAULT_OUTPUT_SPECS : specs;
  const out: OutputSpec[] = [];
  let stdoutSpec: string | null = null;
  const seenPaths = new Map<string, string>();
  list.forEach((spec, i) => {
    const colon = spec.indexOf(":");
    const format = colon < 0 ? spec : spec.slice(0, colon);
    const path = colon < 0 ? undefined : spec.slice(colon + 1);
    if (!(OUTPUT_FORMATS as readonly string[]).includes(format)) {
      throw new BadInputError(
        `invalid --output ${JSON.stringify(spec)} (output ${i + 1}): format must be one of ${OUTPUT_FORMATS.join(", ")}; ` +
          `use <format>[:<path>], e.g. "json:results.json" or "text"`,
      );
    }
    if (path === "") {
      throw new BadInputError(`invalid --output ${JSON.stringify(spec)}: empty path after ":"; omit ":" or use "-" for stdout`);
    }
    if (path === undefined || path === "-") {
      if (stdoutSpec !== null) {
        throw new BadInputError(
          `invalid --output: both ${JSON.stringify(stdoutSpec)} and ${JSON.stringify(spec)} write to stdout; give all but one a file path`,
        );
      }
      stdoutSpec = spec;
      out.push({ format: format as OutputFormat });
      return;
    }
    const abs = resolve(path);
    const prev = seenPaths.get(abs);
    if (prev !== undefined) {
      throw new BadInputError(`invalid --output: ${JSON.stringify(prev)} and ${JSON.stringify(spec)} write to the same file`);
    }
    seenPaths.set(abs, spec);
    out.push({ format: format as OutputFormat, path });
  });
  // Like Coder, the stdout output comes first.
  return out.sort((a, b) => Number(a.path !== undefined) - Number(b.path !== undefined));
}

export interface OutputContent {
  json: unknown;
  text: string;
  /** Coder's harness results JSON (default: `json`). */
  harness?: unknown;
}

/** Renders one format: JSON pretty-printed with a trailing newline; text as given. Redacted. */
export function renderOutput(format: OutputFormat, content: OutputContent): string {
  const raw =
    format === "text" ? content.text : JSON.stringify(format === "harness" ? (content.harness ?? content.json) : content.json, null, 2) + "\n";
  return redact(raw);
}

/** Writes every output: files atomically (parent folders created), stdout via `stdout` (default process.stdout). */
export async function writeOutputs(
  specs: readonly OutputSpec[],
  content: OutputContent,
  stdout: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  for (const spec of specs) {
    const data = renderOutput(spec.format, content);
    if (spec.path === undefined) {
      await new Promise<void>((res, rej) => stdout.write(data, (err) => (err ? rej(err) : res())));
    } else {
      try {
        await writeFileAtomic(spec.path, data);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? "";
        throw new Error(`cannot write ${spec.format} output to ${spec.path} (${code || String(err)}): check the folder exists or can be created and is writable`);
      }
    }
  }
}

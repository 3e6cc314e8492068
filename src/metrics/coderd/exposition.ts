// A small parser for Prometheus' text exposition format (version 0.0.4), the format coderd serves on its
// --prometheus-address. It reads only samples (name, labels, value); # HELP/# TYPE and timestamps are skipped.
// Hand-written because the npm parsers are unmaintained and the grammar is small; escapes in label values
// (\\, \", \n) are handled, and malformed lines are skipped, never thrown on (a scrape must not fail a run).

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The body size a scrape reads at most: a coderd endpoint is a few hundred KiB even with many routes. */
export const MAX_EXPOSITION_BYTES = 32 * 1024 * 1024;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

function parseValue(text: string): number {
  switch (text) {
    case "+Inf":
      return Infinity;
    case "-Inf":
      return -Infinity;
    case "NaN":
      return NaN;
    default:
      return Number(text);
  }
}

/** Parses one sample line; null when it is not one. */
export function parseLine(line: string): Sample | null {
  const m = NAME.exec(line);
  if (!m) return null;
  const name = m[0];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === "{") {
    i++;
    for (;;) {
      while (line[i] === " " || line[i] === ",") i++;
      if (line[i] === "}") {
        i++;
        break;
      }
      const lm = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i));
      if (!lm) return null;
      i += lm[0].length;
      while (line[i] === " ") i++;
      if (line[i] !== "=") return null;
      i++;
      while (line[i] === " ") i++;
      if (line[i] !== '"') return null;
      i++;
      let v = "";
      for (;;) {
        const c = line[i];
        if (c === undefined) return null;
        if (c === "\\") {
          const n = line[i + 1];
          v += n === "n" ? "\n" : (n ?? "");
          i += 2;
          continue;
        }
        if (c === '"') {
          i++;
          break;
        }
        v += c;
        i++;
      }
      labels[lm[0]] = v;
    }
  }
  const rest = line.slice(i).trim().split(/\s+/);
  if (!rest[0]) return null;
  const value = parseValue(rest[0]);
  if (Number.isNaN(value) && rest[0] !== "NaN") return null;
  return { name, labels, value };
}

/** Every sample of an exposition whose metric name passes `keep` (default: all). */
export function parseExposition(text: string, keep: (name: string) => boolean = () => true): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const s = parseLine(line);
    if (s && keep(s.name)) out.push(s);
  }
  return out;
}

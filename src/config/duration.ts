// Go-style durations ("1h30m", "500ms", "2.5s"), the syntax Coder's CLI and template use.
// Parsed to milliseconds; a bare number is refused because its unit would be a guess.

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;

/** Parses a Go duration string into milliseconds; throws with a message that says what is accepted. */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (s === "0") return 0;
  if (s === "") throw new Error("empty duration: use a value with a unit, e.g. 30s, 5m or 1h30m");
  PART.lastIndex = 0;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    PART.lastIndex = pos;
    const m = PART.exec(s);
    if (!m) {
      throw new Error(`"${text}" is not a duration: use a number with a unit (ms, s, m, h), e.g. 500ms, 30s, 1h30m`);
    }
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    pos = PART.lastIndex;
  }
  if (!Number.isFinite(total)) throw new Error(`"${text}" is too large a duration`);
  return total;
}

/** Formats milliseconds as a compact Go-style duration ("1h30m", "5m", "2.5s", "250ms"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1000) return `${+ms.toFixed(3)}ms`;
  const parts: string[] = [];
  let rest = ms;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = rest / 1000;
  if (h) parts.push(`${h}h`);
  if (m) parts.push(`${m}m`);
  if (s) parts.push(`${+s.toFixed(3)}s`);
  return parts.join("");
}

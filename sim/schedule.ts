// Coder's weekly autostart schedule (coderd/schedule/cron: Weekly): `CRON_TZ=<tz> m h * * dow`, minute
// granularity, day-of-month and month always `*`; without CRON_TZ the schedule is in UTC. Errors carry
// Coder's texts (the validate/parse prefixes, robfig/cron's field messages) so the PUT answers what coderd does.

export class ScheduleError extends Error {}

const WEEKLY_FIELDS = "validate weekly schedule: expected schedule to consist of 5 fields with an optional CRON_TZ=<timezone> prefix";

interface FieldSpec { name: string; min: number; max: number; names?: Record<string, number> }

const DOW_NAMES: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const FIELDS: FieldSpec[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "dom", min: 1, max: 31 },
  { name: "month", min: 1, max: 12 },
  { name: "dow", min: 0, max: 6, names: DOW_NAMES },
];

export interface WeeklySchedule {
  /** The schedule string as given (coderd stores it unchanged). */
  raw: string;
  tz: string;
  minutes: Set<number>;
  hours: Set<number>;
  dows: Set<number>;
  /** First minute strictly after `after` (epoch ms) that the schedule names; null if none within 8 days. */
  next(after: number): number | null;
}

function parseInt10(s: string, spec: FieldSpec): number {
  const named = spec.names?.[s.toLowerCase()];
  if (named !== undefined) return named;
  if (!/^\d+$/.test(s)) {
    throw new ScheduleError(`parse schedule: failed to parse int from ${s}: strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  }
  return Number(s);
}

/** One cron field as robfig/cron parses it: `*`, `N`, `A-B`, any of them `/STEP`, comma lists. */
function parseField(expr: string, spec: FieldSpec): Set<number> {
  const out = new Set<number>();
  for (const part of expr.split(",")) {
    const [rangePart = "", stepPart, extra] = part.split("/");
    if (extra !== undefined) throw new ScheduleError(`parse schedule: too many slashes: ${part}`);
    let lo: number;
    let hi: number;
    if (rangePart === "*" || rangePart === "?") {
      lo = spec.min;
      hi = spec.max;
    } else {
      const bounds = rangePart.split("-");
      if (bounds.length > 2) throw new ScheduleError(`parse schedule: too many hyphens: ${part}`);
      lo = parseInt10(bounds[0] ?? "", spec);
      hi = bounds.length === 2 ? parseInt10(bounds[1] ?? "", spec) : lo;
      if (stepPart !== undefined && bounds.length === 1) hi = spec.max;
    }
    let step = 1;
    if (stepPart !== undefined) {
      step = parseInt10(stepPart, { ...spec, names: {} });
      if (step <= 0) throw new ScheduleError(`parse schedule: step of range should be a positive number: ${part}`);
    }
    if (lo < spec.min) throw new ScheduleError(`parse schedule: beginning of range (${lo}) below minimum (${spec.min}): ${part}`);
    if (hi > spec.max) throw new ScheduleError(`parse schedule: end of range (${hi}) above maximum (${spec.max}): ${part}`);
    if (lo > hi) throw new ScheduleError(`parse schedule: beginning of range (${lo}) beyond end of range (${hi}): ${part}`);
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Parses a schedule as coderd's cron.Weekly does; throws ScheduleError with Coder's message. */
export function parseWeekly(raw: string): WeeklySchedule {
  const parts = raw.trim().split(/\s+/).filter((p) => p !== "");
  if (parts.length < 5) throw new ScheduleError(WEEKLY_FIELDS);
  let fields = parts;
  let tz = "UTC";
  if (parts[0]!.startsWith("CRON_TZ=")) {
    tz = parts[0]!.slice("CRON_TZ=".length);
    fields = parts.slice(1);
  }
  if (fields.length !== 5) {
    if (fields.length < 5) throw new ScheduleError(WEEKLY_FIELDS);
    throw new ScheduleError(`parse schedule: expected exactly 5 fields, found ${fields.length}: ${fields.join(" ")}`);
  }
  if (fields[2] !== "*" || fields[3] !== "*") throw new ScheduleError("validate weekly schedule: expected day-of-month and month to be *");
  if (tz === "Local") throw new ScheduleError("schedules scoped to time.Local are not supported");
  if (tz === "" || !validTimeZone(tz)) throw new ScheduleError(`parse schedule: provided bad location ${tz}: unknown time zone ${tz}`);
  const [minutes, hours, , , dows] = fields.map((f, i) => parseField(f, FIELDS[i]!)) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  const wall = wallClock(tz);
  return {
    raw,
    tz,
    minutes,
    hours,
    dows,
    next(after: number): number | null {
      // Minute by minute from the first whole minute after `after` (cron's granularity), at most 8 days.
      let t = Math.floor(after / 60_000) * 60_000 + 60_000;
      for (let i = 0; i < 8 * 24 * 60; i++, t += 60_000) {
        const w = wall(t);
        if (minutes.has(w.minute) && hours.has(w.hour) && dows.has(w.dow)) return t;
      }
      return null;
    },
  };
}

/** Wall-clock minute, hour and weekday of an instant in `tz` (UTC without Intl, the common case). */
function wallClock(tz: string): (t: number) => { minute: number; hour: number; dow: number } {
  if (tz === "UTC" || tz === "Etc/UTC") {
    return (t) => {
      const d = new Date(t);
      return { minute: d.getUTCMinutes(), hour: d.getUTCHours(), dow: d.getUTCDay() };
    };
  }
  const fmt = new Intl.DateTimeFormat("en-US", { timeZone: tz, hour12: false, hour: "numeric", minute: "numeric", weekday: "short" });
  return (t) => {
    const parts = fmt.formatToParts(new Date(t));
    const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? "0";
    return { minute: Number(get("minute")), hour: Number(get("hour")) % 24, dow: DOW_NAMES[get("weekday").toLowerCase()] ?? 0 };
  };
}

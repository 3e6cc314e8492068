// The scheduling arithmetic of Coder's autostart runner: after the barrier, the autostart minute is
// (now + --autostart-delay) rounded to the minute as Go's time.Round does (halves round up), and the
// schedule names that minute in UTC: `CRON_TZ=UTC <minute> <hour> * * *`. Pure, so tests inject the clock.

/** Coder's minimum --autostart-delay (scaletest/autostart/config.go). */
export const MIN_AUTOSTART_DELAY_MS = 2 * 60_000;

const MINUTE = 60_000;

/** Go's t.Round(time.Minute) on epoch ms: the nearest whole minute, halfway rounding up. */
export function roundToMinute(ms: number): number {
  return Math.floor((ms + MINUTE / 2) / MINUTE) * MINUTE;
}

/** The minute every workspace is scheduled for, from the wall clock at the barrier. */
export function autostartTime(nowMs: number, delayMs: number): number {
  return roundToMinute(nowMs + delayMs);
}

/** The weekly schedule naming that minute every day, in UTC. */
export function scheduleFor(minuteMs: number): string {
  const d = new Date(minuteMs);
  return `CRON_TZ=UTC ${d.getUTCMinutes()} ${d.getUTCHours()} * * *`;
}

/** HH:MM UTC, for messages. */
export function minuteText(minuteMs: number): string {
  return `${new Date(minuteMs).toISOString().slice(11, 16)} UTC`;
}

/** Coder's percentile over a run's values: sorted[int((n-1)*p)], 0 for none (scaletest/autostart/result.go). */
export function coderPercentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) * p)]!;
}

/**
 * One side of the benchmark guard (bench/lib/guard.ts), kept warm for every round: the product's app
 * transport ("product") or the raw-ws floor sending the same frames ("floor"). Started with fork(); the parent
 * sends { cmd: "run", workload, window } per phase and gets a PhaseReport back; { cmd: "exit" } ends it.
 *
 * CPU is this process's own (process.cpuUsage: user + system of all its threads) between `window.fromMs` (or
 * shortly after the last connection opened, if later) and `window.toMs` after the phase started, i.e. steady
 * traffic only (no dial ramp, no drain or close). The bytes echoed back to this process are counted over the
 * same window, so CPU and work cover exactly the same interval.
 *
 *   (forked) bench/clients/guard-worker.ts --side product|floor --url ws://127.0.0.1:PORT/ [--inject-us N]
 */
import { performance } from "node:perf_hooks";
import { runFloor } from "../lib/floor.ts";
import { PRODUCT_FRAME_BYTES, runProductApp } from "../lib/product-app.ts";
import { argOf, type ClientReport, type Workload } from "../lib/workload.ts";
import type { GuardSide, PhaseReport, PhaseRequest } from "../lib/guard.ts";

const argv = process.argv.slice(2);
const side = argOf(argv, "side") as GuardSide;
const url = argOf(argv, "url");
if (side !== "product" && side !== "floor") throw new Error(`--side must be "product" or "floor" (got "${side}")`);
/** Self-check of the guard (bench/guard.ts --inject-us): extra CPU per received message, a made-up regression. */
const injectNs = BigInt(Math.round(Number(argOf(argv, "inject-us", "0")) * 1000));

function spin(): void {
  const until = process.hrtime.bigint() + injectNs;
  while (process.hrtime.bigint() < until);
}

/** Exposed by --expose-gc (bench/lib/guard.ts starts the worker with it). */
const gc = (globalThis as { gc?: () => void }).gc;

/** The window waits for this share of the connections to be open (a few stragglers' dials cost little). */
const OPEN_SHARE = 0.9;

/** After a late last dial, how long before the window opens (its echoes and first ticks settle). */
const SETTLE_MS = 300;

async function phase(w: Workload, win: PhaseRequest["window"]): Promise<PhaseReport> {
  const t0 = performance.now();
  let cpu0: NodeJS.CpuUsage | undefined;
  let cpu: NodeJS.CpuUsage | undefined;
  let start = 0;
  let end = 0;
  let echoed = 0;
  let echoed0 = 0;
  let echoedInWindow = 0;
  let opened = 0;
  let openAtStart = 0;
  const onEcho =
    injectNs > 0n
      ? (n: number): void => {
          echoed += n;
          spin();
        }
      : (n: number): void => {
          echoed += n;
        };
  // The window opens at `fromMs`, or, when dials are slow (a busy machine), SETTLE_MS after all but a few
  // connections opened: dial work inside the window would be CPU without bytes to show for it.
  const enough = Math.ceil(w.conns * OPEN_SHARE);
  let fromPassed = false;
  let settling: NodeJS.Timeout | undefined;
  const open = (): void => {
    cpu0 = process.cpuUsage();
    start = Date.now();
    echoed0 = echoed;
    openAtStart = opened;
  };
  const maybeOpen = (): void => {
    if (!fromPassed || cpu0 || settling || opened < enough) return;
    settling = setTimeout(open, SETTLE_MS);
  };
  let lastOpenMs = 0;
  const onOpen = (): void => {
    opened++;
    lastOpenMs = performance.now() - t0;
    maybeOpen();
  };
  const a = setTimeout(() => {
    // A full collection now, outside the window, so a major GC of garbage from earlier phases (or from the
    // dial ramp) does not land in one side's window by chance; collections caused by the window's own
    // allocations still count.
    gc?.();
    fromPassed = true;
    if (opened >= enough) open();
    else maybeOpen();
  }, win.fromMs);
  const b = setTimeout(() => {
    if (!cpu0) return;
    cpu = process.cpuUsage(cpu0);
    end = Date.now();
    echoedInWindow = echoed - echoed0;
  }, win.toMs);
  let client: ClientReport;
  try {
    client =
      side === "product"
        ? await runProductApp(url, w, { onEcho, onOpen })
        : await runFloor(url, w, { frameBytes: PRODUCT_FRAME_BYTES, onEcho, onOpen });
  } finally {
    clearTimeout(a);
    clearTimeout(b);
    clearTimeout(settling);
  }
  const wallMs = performance.now() - t0;
  const dials = { opened, lastOpenMs: Math.round(lastOpenMs) };
  if (!cpu) return { side, client, wallMs, dials };
  return { side, client, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, echoedBytes: echoedInWindow, openAtStart, dials, window: { start, end } };
}

process.on("message", (m: PhaseRequest | { cmd: "exit" }) => {
  if (m.cmd === "exit") process.exit(0);
  phase(m.workload, m.window).then(
    (r) => process.send!(r),
    (err: unknown) => process.send!({ side, wallMs: 0, fatal: err instanceof Error ? err.message : String(err) }),
  );
});
process.on("disconnect", () => process.exit(0));
process.send!({ ready: true });

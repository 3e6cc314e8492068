/**
 * One side of the benchmark guard (bench/lib/guard.ts), kept warm for every round: the product's app
 * transport ("product") or the raw-ws floor sending the same frames ("floor"). Started with fork(); the parent
 * sends { cmd: "run", workload, window } per phase and gets a PhaseReport back; { cmd: "exit" } ends it.
 *
 * CPU is this process's own (process.cpuUsage: user + system of all its threads) between `window.fromMs` and
 * `window.toMs` after the phase started, i.e. steady traffic only (no dial ramp, no drain or close), and the
 * bytes echoed back to this process in the same window are counted here, so CPU and work cover exactly the
 * same interval; the window's epoch bounds go back to the parent, which checks the throughput with the echo
 * server's own record.
 *
 *   (forked) bench/clients/guard-worker.ts --side product|floor --url ws://127.0.0.1:PORT/
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
  const onEcho = (n: number): void => {
    echoed += n;
  };
  const onOpen = (): void => {
    opened++;
  };
  const a = setTimeout(() => {
    cpu0 = process.cpuUsage();
    start = Date.now();
    echoed0 = echoed;
    openAtStart = opened;
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
  }
  const wallMs = performance.now() - t0;
  if (!cpu) return { side, client, wallMs };
  return { side, client, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, echoedBytes: echoedInWindow, openAtStart, window: { start, end } };
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

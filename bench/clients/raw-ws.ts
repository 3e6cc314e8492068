/**
 * The floor of the peer benchmark (bench/lib/floor.ts): the least code that drives the workload with `ws`
 * directly, in its own process, putting the same frames on the wire as ours (1,024-byte binary messages,
 * four per 4 KiB tick).
 *
 *   node --import tsx bench/clients/raw-ws.ts --url ws://127.0.0.1:PORT/ --conns N [--bytes --interval --duration --ramp]
 */
import { runFloor } from "../lib/floor.ts";
import { PRODUCT_FRAME_BYTES } from "../lib/product-app.ts";
import { sampleMemoryAt, watchGc } from "../lib/gc-stats.ts";
import { argOf, parseWorkload, REPORT_PREFIX } from "../lib/workload.ts";

const argv = process.argv.slice(2);
const w0 = parseWorkload(argv);
const gc = watchGc();
const mem = sampleMemoryAt(w0.rampMs + (w0.durationMs - w0.rampMs) / 2);
const report = { ...(await runFloor(argOf(argv, "url"), parseWorkload(argv), { frameBytes: PRODUCT_FRAME_BYTES })), gc: gc(), memory: mem() };
process.stdout.write(REPORT_PREFIX + JSON.stringify(report) + "\n");
process.exit(0);

/**
 * Our traffic engine driving the benchmark workload through the product's own transport: runTraffic with the
 * workspace-app kind in echo mode (appDialer -> openAuthedWebSocket -> wsConnection, the connection code the
 * web-terminal kind shares), with the product's Prometheus metrics on, as in a real run (bench/lib/product-app.ts).
 * Each 4 KiB tick goes out as 1,024-byte binary messages, as Coder's app writer sends them.
 *
 *   node --import tsx bench/clients/ours.ts --url ws://127.0.0.1:PORT/ --conns N [--bytes --interval --duration --ramp]
 */
import { runProductApp } from "../lib/product-app.ts";
import { sampleMemoryAt, watchGc } from "../lib/gc-stats.ts";
import { argOf, parseWorkload, REPORT_PREFIX } from "../lib/workload.ts";

const argv = process.argv.slice(2);
const w0 = parseWorkload(argv);
const gc = watchGc();
const mem = sampleMemoryAt(w0.rampMs + (w0.durationMs - w0.rampMs) / 2);
const report = { ...(await runProductApp(argOf(argv, "url"), parseWorkload(argv))), gc: gc(), memory: mem() };
process.stdout.write(REPORT_PREFIX + JSON.stringify(report) + "\n");
process.exit(0);

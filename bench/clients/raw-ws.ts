/**
 * The floor of the peer benchmark (bench/lib/floor.ts): the least code that drives the workload with `ws`
 * directly, one message per tick, in its own process.
 *
 *   node --import tsx bench/clients/raw-ws.ts --url ws://127.0.0.1:PORT/ --conns N [--bytes --interval --duration --ramp]
 */
import { runFloor } from "../lib/floor.ts";
import { argOf, parseWorkload, REPORT_PREFIX } from "../lib/workload.ts";

const argv = process.argv.slice(2);
const report = await runFloor(argOf(argv, "url"), parseWorkload(argv));
process.stdout.write(REPORT_PREFIX + JSON.stringify(report) + "\n");
process.exit(0);

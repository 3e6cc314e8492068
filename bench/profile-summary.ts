/**
 * Prints the top self-time functions of a .cpuprofile:
 *   node --import tsx bench/profile-summary.ts FILE.cpuprofile [--top 25]
 */
import { formatTopSelfTime, topSelfTime } from "./lib/profile.ts";

const file = process.argv[2];
if (!file) {
  console.error("usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile [--top N]");
  process.exit(2);
}
const i = process.argv.indexOf("--top");
const top = i > 0 ? Number(process.argv[i + 1]) : 25;
console.log(formatTopSelfTime(topSelfTime(file, top)));

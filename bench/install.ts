/**
 * Artillery, the peer `npm run bench` compares with, is not a project dependency (its tree is ~500 MB of
 * cloud SDKs). It has its own package.json and lockfile in bench/artillery/, installed there on first use
 * with `npm ci`, so the project's `npm ci` stays lean and bench/*.ts keep the project's own ws, prom-client...
 *
 *   node --import tsx bench/install.ts      # install (or check) it ahead of a bench run
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { artilleryBin, artilleryVersion } from "./lib/artillery.ts";

export const ARTILLERY_DIR = fileURLToPath(new URL("./artillery/", import.meta.url));

/** The artillery version bench/artillery/package.json pins. */
function pinnedVersion(): string {
  const pkg = JSON.parse(readFileSync(`${ARTILLERY_DIR}package.json`, "utf8")) as { dependencies?: Record<string, string> };
  const v = pkg.dependencies?.["artillery"];
  if (!v) throw new Error(`${ARTILLERY_DIR}package.json does not name artillery in its dependencies`);
  return v;
}

export type ArtilleryInstall = { ok: true; version: string; installed: boolean } | { ok: false; reason: string };

/**
 * Artillery at the pinned version, running `npm ci` in bench/artillery/ first when it is missing or another
 * version. Never throws for a failed install: the caller reports the reason and benches the other tools.
 */
export function ensureArtillery(log: (line: string) => void = (l) => console.log(l)): ArtilleryInstall {
  const want = pinnedVersion();
  if (artilleryBin() && artilleryVersion() === want) return { ok: true, version: want, installed: false };
  log(`bench: installing artillery ${want} into bench/artillery/node_modules (npm ci, first use only)`);
  const r = spawnSync("npm", ["ci", "--prefix", ARTILLERY_DIR, "--no-audit", "--no-fund"], {
    stdio: ["ignore", "inherit", "inherit"],
    timeout: 15 * 60_000,
  });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}`;
    return { ok: false, reason: `npm ci in bench/artillery failed (${why}); run it by hand: npm ci --prefix bench/artillery` };
  }
  const got = artilleryVersion();
  if (!artilleryBin() || got !== want) {
    return { ok: false, reason: `after npm ci, bench/artillery has artillery ${got ?? "missing"}, not ${want}` };
  }
  return { ok: true, version: want, installed: true };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = ensureArtillery();
  if (!r.ok) {
    console.error(r.reason);
    process.exit(1);
  }
  console.log(`artillery ${r.version} ${r.installed ? "installed" : "already installed"} in bench/artillery`);
}

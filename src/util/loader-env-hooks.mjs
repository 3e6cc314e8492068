// Runs in the module loader's thread (registered by loader-env.ts): removes the secrets from this thread's
// copy of process.env and stops the esbuild service tsx started here with them. Plain JavaScript, so
// loading it needs no transform (and so no esbuild service).
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** @param {{ names: string[], esbuild: string | null }} data */
export function initialize(data) {
  for (const n of data.names) delete process.env[n];
  if (data.esbuild && require.cache[data.esbuild]) void require(data.esbuild).stop();
}

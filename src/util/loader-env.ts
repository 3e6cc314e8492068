// Secrets out of the environment that tsx's esbuild service inherits. tsx transforms each TypeScript file
// through a long-lived esbuild child process, started (with the whole environment at that moment) when the
// entry file is loaded, before any of our code runs; on Node 20 it lives in the module loader's own thread,
// which holds its own copy of process.env. So removing a secret from process.env (config/load.ts) is not
// enough: the loader thread's copy is scrubbed too, and every esbuild service started before is stopped;
// the next transform starts a fresh one that inherits no secret.
import { createRequire, register } from "node:module";
import { registerSecret, SECRET_ENV_VARS } from "./redact.ts";

const require = createRequire(import.meta.url);

/**
 * The secrets src/boot/register.mjs moved out of the environment before tsx started (empty when the entry
 * point was started without it).
 */
export function preloadedSecrets(): Readonly<Record<string, string>> {
  return ((globalThis as Record<symbol, unknown>)[Symbol.for("scaletest.preloadedSecrets")] as Record<string, string> | undefined) ?? {};
}

/** The environment as the entry point was started with it: process.env plus the preloaded secrets. */
export function startEnv(): NodeJS.ProcessEnv {
  return { ...process.env, ...preloadedSecrets() };
}

/** The esbuild module tsx uses (the same file, hence the same instance, in each thread); null if none. */
function esbuildPath(): string | null {
  try {
    return createRequire(require.resolve("tsx/package.json")).resolve("esbuild");
  } catch {
    return null;
  }
}

/** Stops this thread's esbuild service if tsx started one (it restarts on the next transform, with this thread's env). */
export function stopLoadedEsbuild(path: string | null, req: NodeRequire = require): void {
  if (!path || !req.cache[path]) return;
  const esbuild = req(path) as { stop?: () => unknown };
  void esbuild.stop?.();
}

/**
 * Removes `names` from the environment of this thread and of the module loader's thread, and stops the
 * esbuild services that were started with them.
 */
export function scrubLoaderEnv(names: readonly string[]): void {
  for (const n of names) delete process.env[n];
  const esbuild = esbuildPath();
  stopLoadedEsbuild(esbuild);
  // Module hooks registered with module.register run in the loader thread: ours scrubs that thread's copy.
  if (typeof register === "function") {
    register(new URL("./loader-env-hooks.mjs", import.meta.url), { data: { names: [...names], esbuild } });
  }
}

/**
 * For entry points that load no config (the orchestration scripts): every secret variable's value, hidden
 * from all output and removed from the environment (this thread's and the loader's). Returns them by name.
 */
export function takeEnvSecrets(names: readonly string[] = SECRET_ENV_VARS): Record<string, string> {
  const env = startEnv();
  const out: Record<string, string> = {};
  for (const n of names) {
    const v = env[n];
    if (v === undefined || v === "") continue;
    out[n] = v;
    registerSecret(v);
  }
  scrubLoaderEnv(names);
  return out;
}

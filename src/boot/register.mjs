// The way to start an entry point with no secret in any child's environment:
//   node --import <project>/src/boot/register.mjs scripts/run.ts ...
// It moves every secret out of process.env into memory FIRST, then registers tsx. tsx's module loader
// thread copies the environment when it starts and its esbuild service inherits it; started after this,
// neither ever holds a secret. config/load.ts (and the orchestration scripts) read the secrets from here.
// Plain JavaScript on purpose: loading it needs no transform, so no esbuild service starts before it.
// NAMES: the secret settings' variables and SECRET_ENV_VARS (src/util/redact.ts); test/child-env.test.ts
// checks that they agree.
export const NAMES = ["CODER_SESSION_TOKEN", "CODER_OWNER_SESSION_TOKEN", "CODER_AGENT_TOKEN", "GRAFANA_API_TOKEN", "SLACK_WEBHOOK_URL"];

const stash = {};
for (const name of NAMES) {
  const value = process.env[name];
  if (value === undefined) continue;
  stash[name] = value;
  delete process.env[name];
}
Object.defineProperty(globalThis, Symbol.for("scaletest.preloadedSecrets"), { value: Object.freeze(stash), enumerable: false });

// Resolved from this file, so the launch works from any folder.
await import("tsx");

#!/usr/bin/env -S npx tsx
// create-workspaces: create --count users and workspaces (scaletest-<run-id>-NNNN) from --template,
// wait for their builds and agents, record per-stage timings, then clean up unless --no-cleanup.
// Parity: `coder exp scaletest create-workspaces`. Example:
//   ./scenarios/create-workspaces.ts --count 100 --template kubernetes-minimal --concurrency 10 \
//     --retry 2 --no-cleanup --output json:create.json
import { createOptionsFromConfig, createWorkspaces, renderCreateText, toHarnessJSON } from "../src/create/index.ts";
import { runScenario } from "../src/scenario/main.ts";
import { BAD_INPUT_EXIT_CODE, isBadInput } from "../src/util/errors.ts";

await runScenario(
  "create-workspaces",
  { description: "Create scale-test users and workspaces, time every stage, and clean up unless --no-cleanup." },
  async ({ client, config: c, signal, log }) => {
    try {
      const result = await createWorkspaces(
        client,
        {
          ...createOptionsFromConfig(c, c.successThreshold),
          noCleanup: c.noCleanup,
          cleanup: { concurrency: c.cleanupConcurrency, timeoutMs: c.cleanupTimeout, jobTimeoutMs: c.cleanupJobTimeout },
        },
        { signal, log: (level, msg) => log[level](msg) },
      );
      return { json: toHarnessJSON(result), text: renderCreateText(result), exitCode: result.exit_code };
    } catch (e) {
      if (isBadInput(e)) {
        // Bad input, nothing created: one clear message and the usage exit status.
        process.stderr.write(`${e.message}\n`);
        process.exit(BAD_INPUT_EXIT_CODE);
      }
      throw e;
    }
  },
);

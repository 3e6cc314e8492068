// `npm run sim` serves: it prints eval-able CODER_URL / CODER_SESSION_TOKEN lines, answers
// /buildinfo and stops cleanly on SIGTERM.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

describe("npm run sim", () => {
  it("prints CODER_URL and CODER_SESSION_TOKEN, serves, and stops on SIGTERM", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "sim/main.ts", "--port", "0", "--seed", "9", "--daemons", "2", "--build-ms", "20-40", "--fault", "GET /api/v2/regions 503@1"], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const lines: string[] = [];
      const rl = createInterface({ input: child.stdout });
      for await (const line of rl) {
        lines.push(line);
        if (lines.length === 3) break;
      }
      assert.match(lines[0] ?? "", /^CODER_URL=http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(lines[1] ?? "", /^CODER_SESSION_TOKEN=[A-Za-z0-9]{10}-[A-Za-z0-9]{22}$/);
      assert.match(lines[2] ?? "", /^SCALETEST_CODERD_METRICS_URLS=http:\/\/127\.0\.0\.1:\d+\/$/);
      const url = (lines[0] ?? "").slice("CODER_URL=".length);
      const token = (lines[1] ?? "").slice("CODER_SESSION_TOKEN=".length);
      const info = await fetch(`${url}/api/v2/buildinfo`);
      assert.equal(info.status, 200);
      assert.match(((await info.json()) as { version: string }).version, /^v2\./);
      const me = await fetch(`${url}/api/v2/users/me`, { headers: { "Coder-Session-Token": token } });
      assert.equal(((await me.json()) as { username: string }).username, "admin");
      assert.equal((await fetch(`${url}/api/v2/regions`, { headers: { "Coder-Session-Token": token } })).status, 503, "--fault applies");
      child.kill("SIGTERM");
      const [code] = await once(child, "exit");
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});

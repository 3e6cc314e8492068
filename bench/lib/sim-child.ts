// The simulator in its own process (so its CPU is never charged to the runner being measured), started
// through its CLI and reached over HTTP like a real deployment.
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";

export interface SimChild {
  proc: ResultPromise;
  env: { CODER_URL: string; CODER_SESSION_TOKEN: string };
}

/** Starts `sim/main.ts --port 0 ...args` and waits for the CODER_URL / CODER_SESSION_TOKEN lines it prints. */
export async function startSimChild(args: readonly string[]): Promise<SimChild> {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  const proc = execa(process.execPath, ["--import", "tsx", "sim/main.ts", "--port", "0", ...args], {
    cwd: root,
    stdout: "pipe",
    stderr: "inherit",
    reject: false,
  });
  const env: Record<string, string> = {};
  await new Promise<void>((resolve, reject) => {
    let buf = "";
    proc.stdout!.on("data", (c: Buffer) => {
      buf += c.toString();
      for (const line of buf.split("\n")) {
        const m = /^(CODER_URL|CODER_SESSION_TOKEN)=(.*)$/.exec(line.trim());
        if (m) env[m[1]!] = m[2]!;
      }
      if (env.CODER_URL && env.CODER_SESSION_TOKEN) resolve();
    });
    void proc.then(() => reject(new Error("simulator exited early")));
  });
  return { proc, env: { CODER_URL: env.CODER_URL!, CODER_SESSION_TOKEN: env.CODER_SESSION_TOKEN! } };
}

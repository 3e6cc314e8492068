/**
 * SSH traffic: an ssh2 client session to the workspace agent, over the byte stream of
 * `coder ssh --stdio <owner>/<workspace>.<agent>` (how a TypeScript program reaches an agent over Coder's
 * network: the CLI does the tailnet part, exactly as an OpenSSH ProxyCommand would use it).
 *
 * As Coder's workspace-traffic `--ssh` mode: exec `dd if=/dev/stdin of=/dev/stdout bs=<bytesPerTick>
 * status=none` WITHOUT a PTY (echo on, so no terminal echo on top), count what comes back (each tick's "\n"
 * returns once, untranslated); close = close stdin, send SIGHUP, wait for the channel to close.
 *
 * How the connection ended: cleanly when the remote command's exit status arrived before the channel closed
 * (exit code 0 when the far end ended it; any exit status or signal once we asked it to end); otherwise it was
 * lost, also while we were closing it (the agent never answered our EOF/SIGHUP), and onClose gets an Error. A
 * lost tunnel often shows only as the end of the CLI's stdout (ssh2 waits for the whole stream to close
 * before closing its channels, which can take until the next write), so that end closes the session at once.
 * Only when close() has to cut the connection itself (no answer within closeWaitMs) is the end not a loss.
 *
 * The stream comes from a small transport interface so tests and other tunnels can swap it; the production
 * transport spawns the coder CLI with execa (argument array, no shell), authenticated through its
 * environment (CODER_URL, CODER_SESSION_TOKEN — never on the command line).
 */
import { Duplex } from "node:stream";
import { execa } from "execa";
import ssh2 from "ssh2";
import type { ClientChannel } from "ssh2";
import { BadInputError } from "../../util/errors.ts";
import { envWithoutSecrets, redact, redactAndTruncate } from "../../util/redact.ts";
import type { TrafficConnection, TrafficDialer, TrafficTarget } from "../transport.ts";
import { ddCommand } from "./pty.ts";

const { Client } = ssh2;

/** One byte stream to an agent's SSH server. */
export interface SshStream {
  stream: Duplex;
  /** Called once the SSH session is up: from then on the dial signal must no longer end the stream. */
  dialed(): void;
  /** Why the stream ended, when the transport knows (e.g. the CLI's exit code and stderr). */
  describe(): string;
  /** Tears the transport down (ends stdin, then kills the CLI if it lingers). */
  close(): Promise<void>;
}

export type SshStreamTransport = (target: TrafficTarget, signal: AbortSignal) => SshStream;

/** The `coder ssh` target for an agent: `owner/workspace.agent`. */
export function sshTarget(t: Pick<TrafficTarget, "ownerName" | "workspaceName" | "agentName">): string {
  return `${t.ownerName}/${t.workspaceName}.${t.agentName}`;
}

export interface CoderCliOptions {
  /** The coder binary (name on PATH or a path). */
  coderBinary: string;
  url: string;
  token: string;
  /** Extra environment (tests put a stand-in coder's needs here). */
  env?: Record<string, string>;
  /** How long close() waits for the CLI to exit before killing it (default 3 s). */
  killAfterMs?: number;
}

const STDERR_KEEP = 2048;

/** Production transport: `<coderBinary> ssh --stdio <owner>/<workspace>.<agent>` via execa. */
export function coderSshStdio(opts: CoderCliOptions): SshStreamTransport {
  return (target, signal) => {
    const sub = execa(opts.coderBinary, ["ssh", "--stdio", sshTarget(target)], {
      // The CLI gets the one secret it needs (the run's token), nothing else of ours.
      env: { ...envWithoutSecrets(), ...opts.env, CODER_URL: opts.url, CODER_SESSION_TOKEN: opts.token },
      extendEnv: false,
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      buffer: false,
      reject: false,
      encoding: "buffer",
      forceKillAfterDelay: opts.killAfterMs ?? 3000,
      windowsHide: true,
    });
    // `signal` only bounds the dial: abort kills the CLI while dialing, never after (see dialSsh).
    const onAbort = (): void => {
      sub.kill("SIGTERM");
    };
    signal.addEventListener("abort", onAbort, { once: true });
    let stderr = "";
    sub.stderr?.on("data", (d: Buffer) => {
      if (stderr.length < STDERR_KEEP) stderr += d.toString("utf8");
    });
    let exit: string | undefined;
    const done = sub.then((r) => {
      const how = r.failed && r.code ? r.code : r.signal ? `signal ${r.signal}` : `exit code ${r.exitCode ?? "?"}`;
      exit = how;
      return r;
    });
    const stdin = sub.stdin;
    const stdout = sub.stdout;
    if (!stdin || !stdout) throw new Error("coder ssh --stdio: no stdio pipes");
    const stream = Duplex.from({ readable: stdout, writable: stdin });
    return {
      stream,
      dialed() {
        signal.removeEventListener("abort", onAbort);
      },
      describe() {
        const err = redactAndTruncate(stderr.trim().split("\n").slice(-3).join(" | "), 500);
        return `${opts.coderBinary} ssh --stdio ${sshTarget(target)}${exit ? ` (${exit})` : ""}${err ? `: ${err}` : ""}`;
      },
      async close() {
        stdin.end();
        const t = setTimeout(() => sub.kill("SIGTERM"), opts.killAfterMs ?? 3000);
        t.unref();
        await done;
        clearTimeout(t);
      },
    };
  };
}

export interface SshDialerOptions {
  bytesPerTick: number;
  transport: SshStreamTransport;
  /** SSH handshake timeout (default 30 s). */
  readyTimeoutMs?: number;
  /** How long close() waits for the remote command to end after SIGHUP (default 5 s). */
  closeWaitMs?: number;
  /** SSH user name; the agent ignores it (the tailnet authenticated us). */
  username?: string;
}

export function sshDialer(opts: SshDialerOptions): TrafficDialer {
  const command = ddCommand(opts.bytesPerTick, true);
  return {
    kind: "ssh",
    echo: "echo",
    echoNewlinesPerTick: 1,
    dial: (target, signal) => dialSsh(target, signal, command, opts),
  };
}

async function dialSsh(target: TrafficTarget, signal: AbortSignal, command: string, opts: SshDialerOptions): Promise<TrafficConnection> {
  if (signal.aborted) throw new Error("dial aborted");
  const tunnel = opts.transport(target, signal);
  const client = new Client();
  let tunnelError: Error | undefined;
  tunnel.stream.on("error", (e: Error) => {
    tunnelError = e;
  });

  const channel = await new Promise<ClientChannel>((resolve, reject) => {
    let settled = false;
    const fail = (e: Error): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      client.end();
      void tunnel.close();
      // Let the CLI's exit status/stderr arrive so the error says why (e.g. workspace not running).
      setTimeout(() => reject(new Error(`ssh to ${sshTarget(target)}: ${e.message}; ${tunnel.describe()}`)), 50);
    };
    const onAbort = (): void => fail(new Error("dial aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
    client.on("error", (e) => fail(e));
    client.once("close", () => fail(new Error("connection closed during the SSH handshake")));
    client.once("ready", () => {
      client.exec(command, (err, ch) => {
        if (err) {
          fail(err);
          return;
        }
        settled = true;
        signal.removeEventListener("abort", onAbort);
        tunnel.dialed();
        resolve(ch);
      });
    });
    client.connect({
      sock: tunnel.stream,
      username: opts.username ?? "coder",
      readyTimeout: opts.readyTimeoutMs ?? 30_000,
      // `coder config-ssh` writes StrictHostKeyChecking=no: the tailnet already authenticated the agent.
      hostVerifier: () => true,
      keepaliveInterval: 0,
    });
  });

  let dataCb: ((b: Buffer) => void) | undefined;
  let closeCb: ((err?: Error) => void) | undefined;
  let pending: { err: Error | undefined } | undefined;
  let closingByUs = false;
  /** close() gave up waiting and cut the connection itself. */
  let forced = false;
  let exitInfo: { code?: number | null; signal?: string } | undefined;
  let stderr = "";
  let closed = false;
  const closedP = new Promise<void>((resolve) => {
    channel.once("close", () => {
      closed = true;
      let err: Error | undefined;
      const clean = forced || (closingByUs ? exitInfo !== undefined : exitInfo !== undefined && exitInfo.code === 0);
      if (!clean) {
        const why = exitInfo
          ? exitInfo.signal
            ? `remote command killed by SIG${exitInfo.signal}`
            : `remote command exited with code ${exitInfo.code}`
          : closingByUs
            ? "SSH connection lost while closing (no exit status after EOF and SIGHUP)"
            : "SSH connection lost";
        const extra = [redactAndTruncate(stderr.trim(), 200), tunnelError?.message].filter(Boolean).join("; ");
        err = new Error(`${why}${extra ? ` (${extra})` : ""}; ${tunnel.describe()}`);
      }
      client.end();
      void tunnel.close();
      if (closeCb) closeCb(err);
      else pending = { err };
      resolve();
    });
  });
  channel.on("exit", (code: number | null, sig?: string) => {
    exitInfo = sig ? { code, signal: sig } : { code };
  });
  channel.on("data", (d: Buffer) => dataCb?.(d));
  channel.stderr.on("data", (d: Buffer) => {
    if (stderr.length < 1024) stderr += d.toString("utf8");
  });
  channel.on("error", () => {
    // surfaced through "close"
  });
  client.on("error", () => {
    // surfaced through the channel's "close"
  });
  // The CLI's stdout ended: no more SSH packets can arrive, so no exit status either. Close the session now
  // instead of when the next write fails (there may be none: during the drain, nothing is written).
  // (ssh2 has already ended its side of the stream by then, so client.destroy() would not close it.)
  tunnel.stream.once("end", () => {
    if (!closed) tunnel.stream.destroy();
  });

  return {
    write(chunk: Buffer): Promise<void> {
      if (closed) return Promise.reject(new Error("SSH channel is closed"));
      return new Promise<void>((resolve, reject) => {
        channel.write(chunk, (err?: Error | null) => (err ? reject(err) : resolve()));
      });
    },
    onData(cb) {
      dataCb = cb;
    },
    onClose(cb) {
      closeCb = cb;
      if (pending) cb(pending.err);
    },
    async close() {
      if (closed) return;
      closingByUs = true;
      const wait = opts.closeWaitMs ?? 5000;
      try {
        channel.end();
        channel.signal("HUP");
      } catch {
        // already closing
      }
      await Promise.race([closedP, new Promise((r) => setTimeout(r, wait).unref())]);
      if (!closed) {
        forced = true;
        client.end();
        await tunnel.close();
        await Promise.race([closedP, new Promise((r) => setTimeout(r, 1000).unref())]);
      }
    },
  };
}

// ---- preflight: the CLI is there, reaches the deployment, and which version it is -------------------

/** What the preflight learnt of the coder CLI (recorded with the phase). */
export interface CoderCliInfo {
  binary: string;
  version: string;
  /** The user the CLI is authenticated as (`coder whoami`); null when only the binary was checked. */
  username: string | null;
}

const PREFLIGHT_OUTPUT_KEEP = 64 * 1024;

/**
 * Before anything is created: `<coderBinary> version --output json` and `<coderBinary> whoami --output json`
 * with the same CODER_URL and token the connections will use. Any failure is one BadInputError naming
 * --coder-binary (a missing CLI would otherwise surface as one error per connection after the wait).
 */
export async function checkCoderCli(opts: CoderCliOptions & { signal?: AbortSignal; timeoutMs?: number }): Promise<CoderCliInfo> {
  const bin = opts.coderBinary;
  const hint = `set --coder-binary (SCALETEST_CODER_BINARY) to a coder CLI that can reach ${opts.url}`;
  const run = async (args: string[]): Promise<string> => {
    const r = await execa(bin, args, {
      // No token, no CODER_SESSION_TOKEN: the check of the binary alone hands the CLI no secret.
      env: { ...envWithoutSecrets(), ...opts.env, CODER_URL: opts.url, ...(opts.token ? { CODER_SESSION_TOKEN: opts.token } : {}) },
      extendEnv: false,
      stdin: "ignore",
      reject: false,
      timeout: opts.timeoutMs ?? 30_000,
      maxBuffer: PREFLIGHT_OUTPUT_KEEP,
      ...(opts.signal ? { cancelSignal: opts.signal } : {}),
      windowsHide: true,
    });
    if (r.code === "ENOENT" || /ENOENT/.test(String(r.originalMessage ?? ""))) {
      throw new BadInputError(`the coder CLI "${bin}" was not found (ssh-traffic runs \`coder ssh --stdio\` per connection): install it or ${hint}`);
    }
    if (r.timedOut) {
      // A silent deployment is not bad input: the same failure as any call to it (exit 1), naming the URL.
      throw new Error(`\`${bin} ${args.join(" ")}\` got no answer from ${opts.url} within ${opts.timeoutMs ?? 30_000} ms`);
    }
    if (r.failed || r.exitCode !== 0) {
      const why = r.timedOut ? `no answer within ${opts.timeoutMs ?? 30_000} ms` : r.exitCode !== undefined ? `exit code ${r.exitCode}` : (r.code ?? "failed");
      const err = redactAndTruncate(String(r.stderr ?? "").trim(), 500, [opts.token]);
      throw new BadInputError(`\`${bin} ${args.join(" ")}\` failed (${why})${err ? `: ${err}` : ""}: ${hint}`);
    }
    return String(r.stdout ?? "");
  };
  const parse = (args: string[], text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      throw new BadInputError(`\`${bin} ${args.join(" ")}\` did not print JSON (is it the coder CLI?): ${hint}`);
    }
  };
  const vArgs = ["version", "--output", "json"];
  const v = parse(vArgs, await run(vArgs)) as { version?: unknown };
  if (typeof v?.version !== "string") throw new BadInputError(`\`${bin} ${vArgs.join(" ")}\` printed no version: ${hint}`);
  // Without a token (the pipeline's preflight, before the run token exists) only the binary is checked.
  if (!opts.token) return { binary: bin, version: v.version, username: null };
  const wArgs = ["whoami", "--output", "json"];
  const w = parse(wArgs, await run(wArgs));
  const row = (Array.isArray(w) ? w[0] : w) as { url?: unknown; username?: unknown } | undefined;
  if (typeof row?.username !== "string") throw new BadInputError(`\`${bin} ${wArgs.join(" ")}\` printed no user: ${hint}`);
  if (typeof row.url === "string" && sameOrigin(row.url, opts.url) === false) {
    throw new BadInputError(`the coder CLI "${bin}" talks to ${redact(row.url, [opts.token])}, not ${opts.url}: ${hint}`);
  }
  return { binary: bin, version: v.version, username: row.username };
}

function sameOrigin(a: string, b: string): boolean | undefined {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return undefined;
  }
}

// The agents' SSH servers: one real ssh2 server per simulator, reached the way a real agent is reached
// through Coder's network by `coder ssh --stdio` (here: the stand-in `coder` in test/fake-coder, which
// plays the tailnet). Routing: the stand-in asks GET /api/v2/_sim/ssh (authenticated, sim-only) for the
// listener's port and the agent's id, connects, writes one preamble line "<agent-id>\n", then relays
// bytes. Everything after the preamble is plain SSH.
//
// Like Coder's agent, the server accepts any client auth ("none" included: the tailnet already
// authenticated the user), runs `dd if=/dev/stdin of=/dev/stdout|/dev/null bs=N status=none` (the
// workspace-traffic command) by echoing or discarding stdin, emulates a terminal's echo when a PTY was
// requested, and ends the command on SIGHUP or stdin EOF.
import { generateKeyPairSync } from "node:crypto";
import { createServer, type Server as NetServer, type Socket } from "node:net";
import ssh2 from "ssh2";
import type { ServerChannel } from "ssh2";
import { resolveAgent, runningAgents } from "../apps/resolve.ts";
import type { ConnectionDrop } from "../faults.ts";
import type { RouteDeps } from "../routes/common.ts";
import { agentStatus } from "../state.ts";

const { Server } = ssh2;

/**
 * The agents' host key: ECDSA P-256 from node:crypto (SEC1 PEM, which ssh2 parses), generated once per
 * process (cheap, ~1 ms). ssh2's own ed25519 generator occasionally yields keys its parser rejects.
 */
let hostKeyPem: string | undefined;
function hostKey(): string {
  hostKeyPem ??= generateKeyPairSync("ec", {
    namedCurve: "prime256v1",
    privateKeyEncoding: { type: "sec1", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  }).privateKey;
  return hostKeyPem;
}

/** Longest preamble line accepted before the SSH stream starts. */
const MAX_PREAMBLE = 128;

export interface SimSshStats {
  /** TCP connections accepted (preamble read). */
  connections: number;
  /** Currently open TCP connections. */
  open: number;
  /** exec/shell sessions started. */
  sessions: number;
  bytesIn: number;
  bytesOut: number;
  /** Connections cut by the drop fault (while their session was live: see ConnectionDrop). */
  dropped: number;
  rejected: number;
}

export interface SimSsh {
  readonly port: number;
  stats(): SimSshStats;
}

/** `dd if=/dev/stdin of=<out> bs=<n> status=none` -> out, or undefined for other commands. */
export function parseDdCommand(cmd: string): { out: "stdout" | "null"; bs: number } | undefined {
  const m = /^dd if=\/dev\/stdin of=\/dev\/(stdout|null) bs=(\d+) status=none$/.exec(cmd.trim());
  if (!m) return undefined;
  return { out: m[1] === "stdout" ? "stdout" : "null", bs: Number(m[2]) };
}

/** A terminal's output translation (onlcr): "\n" -> "\r\n". */
function onlcr(b: Buffer): Buffer {
  if (!b.includes(0x0a)) return b;
  const out: number[] = [];
  for (const c of b) {
    if (c === 0x0a) out.push(0x0d);
    out.push(c);
  }
  return Buffer.from(out);
}

export async function installSsh(deps: RouteDeps): Promise<SimSsh> {
  const { core } = deps;
  const stats: SimSshStats = { connections: 0, open: 0, sessions: 0, bytesIn: 0, bytesOut: 0, dropped: 0, rejected: 0 };
  const sockets = new Set<Socket>();
  /** The drop fault per accepted TCP connection, by "<remote address>|<remote port>" (how ssh2 names it). */
  const drops = new Map<string, ConnectionDrop>();
  const peer = (ip: string | undefined, port: number | undefined): string => `${ip ?? ""}|${port ?? ""}`;

  const ssh = new Server({ hostKeys: [hostKey()], debug: process.env.SIM_SSH_DEBUG ? (m: string) => console.error("SSHD", m) : undefined }, (client, info) => {
    // One traffic session per connection (as `coder ssh --stdio` opens it): the session's stream is the
    // connection's, for the drop fault.
    const drop = drops.get(peer(info.ip, info.port));
    client.on("error", () => client.end());
    client.on("authentication", (ctx) => ctx.accept());
    client.on("ready", () => {
      client.on("session", (acceptSession) => {
        const session = acceptSession();
        let pty = false;
        let channel: ServerChannel | undefined;
        session.on("pty", (accept) => {
          pty = true;
          accept?.();
        });
        session.on("window-change", (accept) => accept?.());
        session.on("env", (accept) => accept?.());
        session.on("signal", (accept, _reject, info) => {
          accept?.();
          if (channel && (info.name === "HUP" || info.name === "INT" || info.name === "TERM" || info.name === "KILL")) {
            finish(channel, info.name);
          }
        });
        const finish = (ch: ServerChannel, signal?: string): void => {
          // The server now ends the stream cleanly (exit status, EOF, close): no drop may cut it any more.
          drop?.end();
          if (ch.destroyed || ch.writableEnded) return;
          try {
            if (signal) ch.exit(signal, false, "");
            else ch.exit(0);
            ch.end();
          } catch {
            // channel already gone
          }
        };
        const run = (ch: ServerChannel, echoStdout: boolean): void => {
          channel = ch;
          stats.sessions++;
          ch.on("error", () => ch.destroy());
          ch.on("close", () => drop?.end());
          ch.on("data", (d: Buffer) => {
            // The client writes only once its dial is complete: from its first byte the stream is live.
            drop?.live();
            stats.bytesIn += d.length;
            // With a PTY the terminal echoes typed input; dd's own output (if any) comes on top of it.
            let out: Buffer | undefined;
            if (pty) out = echoStdout ? Buffer.concat([onlcr(d), onlcr(d)]) : onlcr(d);
            else if (echoStdout) out = d;
            if (out) {
              const o = out;
              const send = (): void => {
                if (ch.destroyed || ch.writableEnded) return;
                stats.bytesOut += o.length;
                if (!ch.write(o)) ch.pause();
              };
              // The capacity model (faults.setCapacity): past its knee of live streams, every echo comes later.
              const delay = core.faults.streamDelayMs("ssh");
              if (delay > 0) core.later(delay, send);
              else send();
            }
          });
          ch.on("drain", () => ch.resume());
          ch.on("end", () => finish(ch));
        };
        session.on("exec", (accept, reject, info) => {
          const dd = parseDdCommand(info.command);
          const ch = accept?.();
          if (!ch) return;
          if (!dd) {
            ch.stderr.write(`sh: 1: ${info.command.split(" ")[0] ?? ""}: not supported by the simulated agent\n`);
            ch.exit(127);
            ch.end();
            void reject;
            return;
          }
          run(ch, dd.out === "stdout");
        });
        session.on("shell", (accept) => {
          const ch = accept?.();
          if (ch) run(ch, false);
        });
      });
    });
  });

  const onConnection = (sock: Socket): void => {
    sock.setNoDelay(true);
    sock.on("error", () => sock.destroy());
    let head = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      head = Buffer.concat([head, d]);
      const nl = head.indexOf(0x0a);
      if (nl < 0) {
        if (head.length > MAX_PREAMBLE) sock.destroy();
        return;
      }
      sock.off("data", onData);
      sock.pause();
      const agentId = head.subarray(0, nl).toString("utf8").trim();
      const rest = head.subarray(nl + 1);
      const agent = core.state.agents.get(agentId);
      if (!agent || agentStatus(agent, core.now()) !== "connected" || core.stopped) {
        stats.rejected++;
        sock.destroy();
        return;
      }
      const ws = core.state.workspaces.get(agent.workspaceId);
      if (!ws || !runningAgents(core, ws).includes(agent)) {
        stats.rejected++;
        sock.destroy();
        return;
      }
      stats.connections++;
      stats.open++;
      sockets.add(sock);
      const key = peer(sock.remoteAddress, sock.remotePort);
      const drop = core.faults.connectionDrop("ssh", core, () => {
        if (sock.destroyed) return false;
        stats.dropped++;
        sock.destroy();
        return true;
      });
      drops.set(key, drop);
      sock.once("close", () => {
        stats.open--;
        sockets.delete(sock);
        drop.end();
        if (drops.get(key) === drop) drops.delete(key);
      });
      if (rest.length) sock.unshift(rest);
      // Stay paused: ssh2 resumes the socket once its own "data" listener is attached (after its crypto
      // init); resuming here would emit the buffered bytes to nobody.
      ssh.injectSocket(sock);
    };
    sock.on("data", onData);
  };

  const listener: NetServer = createServer(onConnection);
  await new Promise<void>((resolve, reject) => {
    listener.once("error", reject);
    listener.listen(0, core.opts.host, () => resolve());
  });
  const addr = listener.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;

  // Sim-only discovery for the stand-in `coder` CLI (never used by product code): who to dial for
  // owner/workspace[.agent]. Authenticated like any API call, with coderd's visibility rules.
  core.router.add("GET", "/api/v2/_sim/ssh", (ctx) => {
    const owner = ctx.query.get("owner") || "me";
    const workspace = ctx.query.get("workspace") ?? "";
    const agentName = ctx.query.get("agent") || undefined;
    const r = resolveAgent(core, ctx.me, owner, workspace, agentName);
    ctx.json(200, { host: core.opts.host, port, agent_id: r.agent.id, agent_name: r.agent.name });
  });

  core.onDropConnections(() => {
    for (const s of sockets) s.destroy();
  });
  core.onClose(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  });

  return { port, stats: () => ({ ...stats }) };
}

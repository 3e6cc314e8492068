// The agent's reconnecting-PTY websocket: GET /api/v2/workspaceagents/{id}/pty?reconnect=&width=&height=&command=
//
// Behaviour (documented choices):
//  - The client sends JSON frames {"data": "...", "height"?, "width"?}; output is raw bytes (binary
//    frames), like Coder's agent.
//  - Input is echoed once, with "\n" turned into "\r\n" (a tty's onlcr). For Coder's traffic
//    command `dd if=/dev/stdin of=/dev/stdout` a real PTY would echo AND dd would write the bytes
//    again; the simulator echoes once whatever the command (of=/dev/stdout or of=/dev/null), which
//    keeps the byte accounting simple: bytes read == bytes written (+1 per newline).
//  - With a command, Ctrl+C ("\u0003") ends it: "^C" is echoed and the server closes the socket
//    normally (1000). Without a command it is an interactive shell: Ctrl+C prints a new prompt and
//    "exit" closes.
//  - Any other command (e.g. `coder exp scaletest create-workspaces --run-command "echo hello"`) runs
//    once like a shell would: `echo X` prints "X\r\n", anything else prints one short line, then the
//    server closes normally (1000), as the agent does when the process exits. A bare shell name
//    (sh, bash, /bin/bash, ...) is an interactive shell, as with no command.
//  - Reconnecting with the same reconnect id (same agent) within ptyReconnectWindowMs resumes the
//    same session (same command, not restarted). Earlier output is NOT replayed (Coder replays a
//    ring buffer; the product does not depend on it).
//  - The agent must be connected, else the upgrade fails with 400 and Coder's JSON error body.
//  - When the agent disconnects (workspace stopped/deleted) open sessions close with 1001.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { authenticate, tokenFromRequest } from "./auth.ts";
import type { SimCore } from "./core.ts";
import { HttpError, NOT_FOUND_MESSAGE } from "./http/context.ts";
import { canSeeWorkspace } from "./routes/common.ts";
import { agentStatus, type SimAgent } from "./state.ts";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CTRL_C = "\u0003";
/** The traffic commands (web-terminal and SSH traffic): echo until Ctrl+C. */
const DD_RE = /^dd if=\/dev\/stdin of=\/dev\/\S+( |$)/;
/** Commands that start an interactive shell rather than run and exit. */
const SHELL_RE = /^(\/usr)?(\/bin\/)?(sh|bash|zsh|ash|dash)( -l| -i| --login)*$/;
/** How long a one-shot command "runs" before its output appears. */
const ONE_SHOT_RUN_MS = 5;

type CommandKind = "shell" | "stream" | "oneshot";

export function commandKind(command: string): CommandKind {
  const c = command.trim();
  if (c === "" || SHELL_RE.test(c)) return "shell";
  return DD_RE.test(c) ? "stream" : "oneshot";
}

/** What a shell prints for a one-shot command: `echo` prints its (unquoted) words, others a short line. */
export function oneShotOutput(command: string): string {
  const m = /^echo(?:\s+(.*))?$/s.exec(command.trim());
  if (m) {
    const words = (m[1] ?? "").match(/'[^']*'|"[^"]*"|\S+/g) ?? [];
    return words.map((w) => (/^(['"]).*\1$/s.test(w) ? w.slice(1, -1) : w)).join(" ") + "\r\n";
  }
  return `ran: ${command.trim().slice(0, 60)}\r\n`;
}

interface PtySession {
  key: string;
  agentId: string;
  /** "" for an interactive shell, else the streaming (dd) or one-shot command. */
  command: string;
  kind: CommandKind;
  prompt: string;
  sockets: Set<WebSocket>;
  line: string;
  ended: boolean;
  expiry: NodeJS.Timeout | undefined;
  /** A one-shot command's exit timer. */
  run?: NodeJS.Timeout;
}

export class PtyServer {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 32 * 1024, clientTracking: false });
  private readonly sessions = new Map<string, PtySession>();
  private readonly sockets = new Set<WebSocket>();
  /** Open sockets whose client has sent a frame: their client holds them open (its dial is complete). */
  private readonly live = new Set<WebSocket>();
  /** Bytes received as PTY input and sent as PTY output, for stats and tests. */
  readonly bytes = { in: 0, out: 0 };
  /** Websockets accepted since the start. */
  private acceptedTotal = 0;
  /** Most websockets open at once since the start (or the last resetPeak()). */
  private peak = 0;

  constructor(private readonly core: SimCore) {
    core.addUpgradeHandler("/api/v2/workspaceagents/{workspaceagent}/pty", (req, socket, head, params, url) =>
      this.upgrade(req, socket, head, params, url));
    core.state.events.on("agent", (id) => {
      const agent = core.state.agents.get(id);
      if (agent && agent.lifecycle === "off") this.closeAgent(id, 1001, "agent disconnected");
    });
    core.onClose(() => this.closeAll());
    core.onDropConnections(() => this.closeAll());
  }

  /** Open websocket connections. */
  openCount(): number {
    return this.sockets.size;
  }

  /** Open connections whose client has sent at least one frame (so a cut now is a drop, not a failed dial). */
  liveCount(): number {
    return this.live.size;
  }

  sessionCount(): number {
    return this.sessions.size;
  }

  /** Websockets accepted since the start (each dial that got through the upgrade). */
  acceptedCount(): number {
    return this.acceptedTotal;
  }

  /** Most websockets open at the same time since the start or the last resetPeak(). */
  peakOpen(): number {
    return this.peak;
  }

  /** Starts a new peak measurement from what is open now. */
  resetPeak(): void {
    this.peak = this.sockets.size;
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, params: Record<string, string>, url: URL): void {
    const actor = authenticate(this.core.state, tokenFromRequest(req, url.searchParams), this.core.now());
    const agent = this.core.state.agents.get(params["workspaceagent"] ?? "");
    const ws = agent ? this.core.state.workspaces.get(agent.workspaceId) : undefined;
    if (!agent || !ws || !canSeeWorkspace(actor, ws)) throw new HttpError(404, NOT_FOUND_MESSAGE);
    const reconnect = url.searchParams.get("reconnect") ?? "";
    if (!UUID_RE.test(reconnect)) {
      throw new HttpError(400, "Query param 'reconnect' must be a valid UUID.", `got "${reconnect}"`);
    }
    const status = agentStatus(agent, this.core.now());
    if (status !== "connected" || agent.lifecycle === "off") {
      throw new HttpError(400, `Agent state is "${status}", it must be in the "connected" state.`);
    }
    const command = url.searchParams.get("command") ?? "";
    this.wss.handleUpgrade(req, socket, head, (sock) => this.attach(sock, agent, reconnect, command, ws.name));
  }

  private attach(sock: WebSocket, agent: SimAgent, reconnect: string, command: string, wsName: string): void {
    const key = `${agent.id}:${reconnect}`;
    let s = this.sessions.get(key);
    const resumed = s !== undefined && !s.ended;
    if (!s || s.ended) {
      const kind = commandKind(command);
      s = {
        key, agentId: agent.id, command: kind === "shell" ? "" : command, kind, prompt: kind === "shell" ? `coder@${wsName}:~$ ` : "",
        sockets: new Set(), line: "", ended: false, expiry: undefined,
      };
      this.sessions.set(key, s);
    }
    this.core.cancel(s.expiry);
    s.expiry = undefined;
    s.sockets.add(sock);
    this.sockets.add(sock);
    this.acceptedTotal++;
    this.peak = Math.max(this.peak, this.sockets.size);
    const session = s;
    if (!resumed && session.prompt) this.write(session, session.prompt);
    if (!resumed && session.kind === "oneshot") this.runOneShot(session);
    // Fault "drop X% of connections mid-stream" (faults.setDrops): cut without a close frame, only while the
    // stream is live: from the client's first frame until either side starts the closing handshake (the
    // server does when the command ends, e.g. on the client's Ctrl+C).
    const drop = this.core.faults.connectionDrop("pty", this.core, () => {
      if (sock.readyState !== sock.OPEN) return false;
      sock.terminate();
      return true;
    });
    sock.on("message", (data: Buffer) => {
      this.live.add(sock);
      drop.live();
      this.onFrame(session, data);
    });
    sock.on("error", () => sock.terminate());
    sock.on("close", () => {
      drop.end();
      this.live.delete(sock);
      session.sockets.delete(sock);
      this.sockets.delete(sock);
      if (session.sockets.size === 0 && !session.ended) {
        session.expiry = this.core.later(this.core.opts.ptyReconnectWindowMs, () => this.sessions.delete(session.key));
      }
    });
  }

  /** The command "runs", prints its output and exits: the session ends with a normal close. */
  private runOneShot(s: PtySession): void {
    s.run = this.core.later(ONE_SHOT_RUN_MS, () => {
      if (s.ended) return;
      this.write(s, oneShotOutput(s.command));
      this.end(s, 1000, "");
    });
  }

  private onFrame(s: PtySession, data: Buffer): void {
    this.bytes.in += data.length;
    let text = data.toString("utf8");
    // The Go client writes one JSON object per frame, newline-terminated; tolerate several.
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      for (const line of text.split("\n")) if (line.trim()) this.onFrame(s, Buffer.from(line));
      return;
    }
    const d = (msg as { data?: unknown } | null)?.data;
    if (typeof d !== "string" || d === "") return;
    text = d;
    const cc = text.indexOf(CTRL_C);
    if (cc >= 0) {
      if (cc > 0) this.input(s, text.slice(0, cc));
      this.write(s, "^C");
      if (s.command !== "") {
        this.end(s, 1000, "");
      } else {
        s.line = "";
        this.write(s, "\r\n" + s.prompt);
      }
      return;
    }
    this.input(s, text);
  }

  private input(s: PtySession, text: string): void {
    if (s.command !== "") {
      const out = text.includes("\n") ? text.replace(/\n/g, "\r\n") : text;
      // The capacity model (faults.setCapacity): past its knee of live streams, every echo comes later.
      const delay = this.core.faults.streamDelayMs("pty");
      if (delay > 0) this.core.later(delay, () => !s.ended && this.write(s, out));
      else this.write(s, out);
      return;
    }
    // Interactive shell: echo, and on each newline show a prompt (or exit).
    let out = "";
    for (const ch of text) {
      if (ch === "\n" || ch === "\r") {
        const cmd = s.line.trim();
        s.line = "";
        if (cmd === "exit") {
          this.write(s, out + "\r\nexit\r\n");
          this.end(s, 1000, "");
          return;
        }
        out += "\r\n" + s.prompt;
      } else {
        s.line += ch;
        out += ch;
      }
    }
    if (out) this.write(s, out);
  }

  private write(s: PtySession, text: string): void {
    const buf = Buffer.from(text, "utf8");
    for (const sock of s.sockets) {
      this.bytes.out += buf.length;
      sock.send(buf, { binary: true });
    }
  }

  private end(s: PtySession, code: number, reason: string): void {
    s.ended = true;
    this.sessions.delete(s.key);
    this.core.cancel(s.expiry);
    this.core.cancel(s.run);
    for (const sock of s.sockets) sock.close(code, reason);
  }

  /** Close every session of one agent (agent went away). */
  closeAgent(agentId: string, code: number, reason: string): void {
    for (const s of [...this.sessions.values()]) if (s.agentId === agentId) this.end(s, code, reason);
  }

  /**
   * Fault: abruptly drop a fraction of the live PTY streams (no close frame). Returns how many: each is one
   * drop for its client. Only live streams (the client has sent a frame): cutting one whose client is still
   * completing its dial would be a failed dial there, not a drop.
   */
  dropConnections(fraction = 1): number {
    let n = 0;
    for (const sock of [...this.live]) {
      // A stream already closing (either side started the handshake) is no longer live.
      if (sock.readyState === sock.OPEN && this.core.rng.chance(fraction)) {
        sock.terminate();
        n++;
      }
    }
    return n;
  }

  closeAll(): void {
    for (const s of this.sessions.values()) {
      this.core.cancel(s.expiry);
      this.core.cancel(s.run);
    }
    this.sessions.clear();
    for (const sock of this.sockets) sock.terminate();
    this.sockets.clear();
    this.live.clear();
  }
}

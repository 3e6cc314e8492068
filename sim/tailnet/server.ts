// GET /api/v2/tailnet?version=2.x: Coder's user-scoped tailnet RPC endpoint (coderd tailnetRPCConn).
//
// Behaviour, as coderd:
//  - session-token auth (401 otherwise); `version` must be 2.x with x <= 3 (400 "Unknown or unsupported API
//    version" with a validation on `version`); then a websocket used as a binary byte stream;
//  - a yamux server session on it (./yamux.ts); every client stream speaks drpc (./drpc.ts);
//  - RPC /coder.tailnet.v2.Tailnet/WorkspaceUpdates (coderd/workspaceupdates.go): first an update with the
//    owner's workspaces (those the caller may read) and their agents, sent even when empty; then, on every
//    workspace event of that owner, the difference against what was sent last (new workspace: upserted
//    with its agents; name/status change: upserted; agents added/removed; workspace gone: deleted with its
//    agents); nothing is sent when nothing changed. The handler ends the stream with a drpc Close.
//  - other RPCs answer a drpc error `unknown rpc`.
// Faults (setFaults): `fanoutDelayMs` delays every change update (computed when the change happens, sent
// that much later, in order); `closeStreams` ends streams mid-run instead of sending their n-th update.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { authenticate, tokenFromRequest } from "../auth.ts";
import type { SimCore } from "../core.ts";
import type { Actor } from "../http/context.ts";
import { rejectUpgrade } from "../http/server.ts";
import { canSeeWorkspace } from "../routes/common.ts";
import { jobStatus, workspaceStatus } from "../state.ts";
import { errorData, frame, K_CANCEL, K_CLOSE, K_ERROR, K_INVOKE, K_MESSAGE, SimDrpcError, SimPacketReader } from "./drpc.ts";
import { bytesToUuid, decodeOwnerId, encodeUpdate, type PbAgent, type PbUpdate, type PbWorkspace } from "./pb.ts";
import { SimYamuxSession, type SimYamuxStream } from "./yamux.ts";

export const WORKSPACE_UPDATES = "/coder.tailnet.v2.Tailnet/WorkspaceUpdates";
/** The newest minor version this endpoint speaks (2.3 added WorkspaceUpdates). */
const CURRENT_MINOR = 3;

export type StreamCloseHow = "close" | "error" | "reset" | "drop";

export interface TailnetFaults {
  /** Every change update is sent this many ms after the change (0 = at once). */
  fanoutDelayMs: number;
  /** Instead of sending a stream's `atUpdate`-th update (1 = the first snapshot), end it `how`; `max` streams at most. */
  closeStreams: { atUpdate: number; how: StreamCloseHow; max: number } | null;
}

export interface TailnetCounts {
  /** Websocket sessions accepted / open now. */
  connections: number;
  openConnections: number;
  /** WorkspaceUpdates subscriptions started / open now. */
  subscriptions: number;
  openSubscriptions: number;
  /** WorkspaceUpdate messages sent. */
  updatesSent: number;
  /** Streams ended by the closeStreams fault. */
  faultCloses: number;
  /** Sessions or streams ended because the client broke the protocol. */
  protocolErrors: number;
}

interface Known {
  name: string;
  status: string;
  agents: Map<string, string>;
}

export class TailnetServer {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1024 * 1024, clientTracking: false });
  private readonly sockets = new Set<WebSocket>();
  private readonly byOwner = new Map<string, Set<Subscription>>();
  private faults: TailnetFaults = { fanoutDelayMs: 0, closeStreams: null };
  private closesLeft = 0;
  private readonly n: TailnetCounts = {
    connections: 0, openConnections: 0, subscriptions: 0, openSubscriptions: 0, updatesSent: 0, faultCloses: 0, protocolErrors: 0,
  };

  constructor(readonly core: SimCore) {
    core.addUpgradeHandler("/api/v2/tailnet", (req, socket, head, _params, url) => this.upgrade(req, socket, head, url));
    core.state.events.on("workspace", (id) => {
      const ws = core.state.workspaces.get(id);
      if (!ws) return;
      for (const sub of this.byOwner.get(ws.ownerId) ?? []) sub.changed();
    });
    core.onClose(() => this.closeAll());
    core.onDropConnections(() => this.closeAll());
  }

  setFaults(f: Partial<TailnetFaults>): void {
    this.faults = { ...this.faults, ...f };
    if (f.closeStreams !== undefined) this.closesLeft = f.closeStreams?.max ?? 0;
  }

  counts(): TailnetCounts {
    return { ...this.n };
  }

  /** Drops every tailnet websocket (restart/stop). */
  closeAll(): void {
    for (const s of this.sockets) s.terminate();
  }

  /** @internal */
  fanoutDelay(): number {
    return this.faults.fanoutDelayMs;
  }

  /** @internal: true when the stream must end instead of sending its `nth` update; uses up the rule. */
  takeClose(nth: number): StreamCloseHow | null {
    const rule = this.faults.closeStreams;
    if (!rule || nth !== rule.atUpdate || this.closesLeft <= 0) return null;
    this.closesLeft--;
    this.n.faultCloses++;
    return rule.how;
  }

  /** @internal */
  count(key: "updatesSent" | "protocolErrors"): void {
    this.n[key]++;
  }

  /** @internal */
  register(sub: Subscription): void {
    let set = this.byOwner.get(sub.ownerId);
    if (!set) this.byOwner.set(sub.ownerId, (set = new Set()));
    set.add(sub);
    this.n.subscriptions++;
    this.n.openSubscriptions++;
  }

  /** @internal */
  unregister(sub: Subscription): void {
    const set = this.byOwner.get(sub.ownerId);
    if (set?.delete(sub)) {
      this.n.openSubscriptions--;
      if (set.size === 0) this.byOwner.delete(sub.ownerId);
    }
  }

  /** The owner's workspaces the actor may read, with their latest build's agents (GetWorkspacesAndAgentsByOwnerID). */
  snapshot(ownerId: string, actor: Actor): Map<string, Known> {
    const s = this.core.state;
    const out = new Map<string, Known>();
    for (const ws of s.workspaces.values()) {
      if (ws.deleted || ws.ownerId !== ownerId || !canSeeWorkspace(actor, ws)) continue;
      const b = s.latestBuild(ws);
      const agents = new Map<string, string>();
      for (const r of b.resources) for (const a of r.agents) agents.set(a.id, a.name);
      out.set(ws.id, { name: ws.name, status: workspaceStatus(b.transition, jobStatus(s.job(b.jobId))), agents });
    }
    return out;
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    const version = url.searchParams.get("version") || "2.0";
    const m = /^(\d+)\.(\d+)$/.exec(version);
    let problem = "";
    if (!m) problem = `invalid version string "${version}"`;
    else if (Number(m[1]) !== 2) problem = `server is at version 2.${CURRENT_MINOR}, requested major version ${m[1]} is not supported`;
    else if (Number(m[2]) > CURRENT_MINOR) problem = `server is at version 2.${CURRENT_MINOR}, behind requested minor version ${version}`;
    if (problem) {
      const body = { message: "Unknown or unsupported API version", validations: [{ field: "version", detail: problem }] };
      rejectUpgrade(socket, 400, body);
      return;
    }
    const actor = authenticate(this.core.state, tokenFromRequest(req, url.searchParams), this.core.now());
    this.wss.handleUpgrade(req, socket, head, (sock) => this.attach(sock, actor));
  }

  private attach(sock: WebSocket, actor: Actor): void {
    this.sockets.add(sock);
    this.n.connections++;
    this.n.openConnections++;
    const session = new SimYamuxSession(
      (b) => {
        if (sock.readyState === sock.OPEN) sock.send(b, { binary: true });
      },
      (stream) => new RpcStream(this, stream, actor, () => sock.terminate()),
      (err) => {
        if (err) {
          this.n.protocolErrors++;
          sock.close(1002, "yamux protocol error");
        }
      },
    );
    sock.on("message", (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        this.n.protocolErrors++;
        sock.close(1003, "binary messages only");
        return;
      }
      session.input(data);
    });
    sock.on("error", () => sock.terminate());
    sock.on("close", () => {
      this.sockets.delete(sock);
      this.n.openConnections--;
      session.end(null);
    });
  }
}

/** One drpc conversation on one yamux stream. */
class RpcStream {
  private readonly reader = new SimPacketReader();
  private rpc = "";
  private started = false;
  private sub: Subscription | null = null;

  constructor(
    private readonly server: TailnetServer,
    private readonly stream: SimYamuxStream,
    private readonly actor: Actor,
    private readonly dropConnection: () => void,
  ) {
    stream.onData = (b) => this.data(b);
    stream.onGone = () => this.sub?.stop();
  }

  private data(b: Buffer): void {
    try {
      for (const p of this.reader.push(b)) {
        if (p.kind === K_INVOKE) {
          if (this.rpc) throw new SimDrpcError("invoke on existing stream");
          this.rpc = p.data.toString("utf8");
        } else if (p.kind === K_MESSAGE && !this.started) {
          this.started = true;
          this.start(p.stream, p.data);
        } else if (p.kind === K_CANCEL || p.kind === K_CLOSE) {
          this.sub?.stop();
        }
      }
    } catch (e) {
      if (!(e instanceof SimDrpcError)) throw e;
      this.server.count("protocolErrors");
      this.sub?.stop();
      this.stream.rst();
    }
  }

  private start(streamId: number, request: Buffer): void {
    const out = new Outbox(this.stream, streamId);
    if (this.rpc !== WORKSPACE_UPDATES) {
      out.error(`protocol error: unknown rpc: "${this.rpc.slice(0, 200)}"`);
      return;
    }
    let owner: Buffer;
    try {
      owner = decodeOwnerId(request);
    } catch (e) {
      out.error(`proto: cannot parse invalid wire-format data: ${(e as Error).message}`);
      return;
    }
    if (owner.length !== 16) {
      out.error(`parse workspace owner ID: invalid UUID (got ${owner.length} bytes)`);
      return;
    }
    this.sub = new Subscription(this.server, out, bytesToUuid(owner), this.actor, this.dropConnection);
    this.sub.begin();
  }
}

/** The server's side of one drpc stream: message ids 1, 2, 3... on the client's stream id. */
class Outbox {
  private msgId = 0;
  ended = false;

  constructor(
    readonly stream: SimYamuxStream,
    private readonly streamId: number,
  ) {}

  message(data: Buffer): void {
    if (!this.ended) this.stream.write(frame(K_MESSAGE, this.streamId, ++this.msgId, data));
  }

  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.stream.write(frame(K_CLOSE, this.streamId, ++this.msgId));
    this.stream.fin();
  }

  error(text: string): void {
    if (this.ended) return;
    this.ended = true;
    this.stream.write(frame(K_ERROR, this.streamId, ++this.msgId, errorData(0n, text)));
    this.stream.fin();
  }
}

class Subscription {
  private prev = new Map<string, Known>();
  private sent = 0;
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly server: TailnetServer,
    private readonly out: Outbox,
    readonly ownerId: string,
    private readonly actor: Actor,
    private readonly dropConnection: () => void,
  ) {}

  begin(): void {
    this.server.register(this);
    const latest = this.server.snapshot(this.ownerId, this.actor);
    this.deliver(diff(new Map(), latest) ?? emptyUpdate());
    this.prev = latest;
  }

  /** A workspace of this owner changed: compute the difference now, send it after the fan-out delay. */
  changed(): void {
    if (this.stopped) return;
    const latest = this.server.snapshot(this.ownerId, this.actor);
    const update = diff(this.prev, latest);
    if (!update) return;
    this.prev = latest;
    const delay = this.server.fanoutDelay();
    if (delay <= 0) {
      this.deliver(update);
      return;
    }
    const t = this.server.core.later(delay, () => {
      this.timers.delete(t);
      this.deliver(update);
    });
    this.timers.add(t);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) this.server.core.cancel(t);
    this.timers.clear();
    this.server.unregister(this);
  }

  private deliver(update: PbUpdate): void {
    if (this.stopped || this.out.ended) return;
    const how = this.server.takeClose(this.sent + 1);
    if (how) {
      this.stop();
      if (how === "close") this.out.close();
      else if (how === "error") this.out.error("simulated fault: workspace updates stream closed by the server");
      else if (how === "reset") this.out.stream.rst();
      else this.dropConnection();
      return;
    }
    this.sent++;
    this.server.count("updatesSent");
    this.out.message(encodeUpdate(update));
  }
}

function emptyUpdate(): PbUpdate {
  return { upsertedWorkspaces: [], upsertedAgents: [], deletedWorkspaces: [], deletedAgents: [] };
}

/** coderd's produceUpdate: what changed from `old` to `now`, or null when nothing did. */
function diff(old: Map<string, Known>, now: Map<string, Known>): PbUpdate | null {
  const u = emptyUpdate();
  const ws = (id: string, k: Known): PbWorkspace => ({ id, name: k.name, status: k.status });
  const ag = (id: string, name: string, workspaceId: string): PbAgent => ({ id, name, workspaceId });
  for (const [id, k] of now) {
    const o = old.get(id);
    if (!o) {
      u.upsertedWorkspaces.push(ws(id, k));
      for (const [aid, name] of k.agents) u.upsertedAgents.push(ag(aid, name, id));
      continue;
    }
    if (o.name !== k.name || o.status !== k.status) u.upsertedWorkspaces.push(ws(id, k));
    for (const [aid, name] of k.agents) if (o.agents.get(aid) !== name) u.upsertedAgents.push(ag(aid, name, id));
    for (const [aid, name] of o.agents) if (k.agents.get(aid) !== name) u.deletedAgents.push(ag(aid, name, id));
  }
  for (const [id, o] of old) {
    if (now.has(id)) continue;
    u.deletedWorkspaces.push(ws(id, o));
    for (const [aid, name] of o.agents) u.deletedAgents.push(ag(aid, name, id));
  }
  const n = u.upsertedWorkspaces.length + u.upsertedAgents.length + u.deletedWorkspaces.length + u.deletedAgents.length;
  return n ? u : null;
}

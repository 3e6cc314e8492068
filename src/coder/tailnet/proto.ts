// Protobuf codecs for the WorkspaceUpdates RPC, from ./tailnet.proto (parsed once at import by protobufjs,
// so the field numbers live in one readable file), with typed results: UUIDs as canonical strings and the
// workspace status as Coder's enum name.
import { readFileSync } from "node:fs";
import protobuf from "protobufjs";
import { TailnetProtocolError } from "./errors.ts";

const root = protobuf.parse(readFileSync(new URL("./tailnet.proto", import.meta.url), "utf8"), { keepCase: true }).root;
const RequestType = root.lookupType("coder.tailnet.v2.WorkspaceUpdatesRequest");
const UpdateType = root.lookupType("coder.tailnet.v2.WorkspaceUpdate");
const StatusEnum = root.lookupEnum("coder.tailnet.v2.Workspace.Status");

/** Coder's Workspace.Status names (tailnet.proto), index = wire value. */
export const WORKSPACE_STATUSES = [
  "UNKNOWN", "PENDING", "STARTING", "RUNNING", "STOPPING", "STOPPED", "FAILED", "CANCELING", "CANCELED", "DELETING", "DELETED",
] as const;
export type WorkspaceStatus = (typeof WORKSPACE_STATUSES)[number];

export interface TailnetWorkspace {
  id: string;
  name: string;
  /** Coder's enum name; a value this client does not know reads as "UNKNOWN". */
  status: WorkspaceStatus;
}

export interface TailnetAgent {
  id: string;
  name: string;
  workspaceId: string;
}

export interface WorkspaceUpdate {
  upsertedWorkspaces: TailnetWorkspace[];
  upsertedAgents: TailnetAgent[];
  deletedWorkspaces: TailnetWorkspace[];
  deletedAgents: TailnetAgent[];
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A UUID string as the 16 raw bytes Coder sends (tailnet.UUIDToByteSlice). */
export function uuidToBytes(id: string): Uint8Array {
  if (!UUID_RE.test(id)) throw new Error(`"${id}" is not a UUID (want xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`);
  return Buffer.from(id.replaceAll("-", ""), "hex");
}

function bytesToUuid(b: Uint8Array | undefined, what: string): string {
  const n = b?.length ?? 0;
  if (!b || n !== 16) throw new TailnetProtocolError("protobuf", `${what} is ${n} bytes, want a 16-byte UUID`);
  const h = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** WorkspaceUpdatesRequest{workspace_owner_id} */
export function encodeWorkspaceUpdatesRequest(ownerId: string): Uint8Array {
  return RequestType.encode(RequestType.create({ workspace_owner_id: uuidToBytes(ownerId) })).finish();
}

interface RawWorkspace { id?: Uint8Array; name?: string; status?: number }
interface RawAgent { id?: Uint8Array; name?: string; workspace_id?: Uint8Array }
interface RawUpdate {
  upserted_workspaces?: RawWorkspace[];
  upserted_agents?: RawAgent[];
  deleted_workspaces?: RawWorkspace[];
  deleted_agents?: RawAgent[];
}

function statusName(v: number | undefined): WorkspaceStatus {
  const name = v === undefined ? undefined : StatusEnum.valuesById[v];
  return (WORKSPACE_STATUSES as readonly string[]).includes(name ?? "") ? (name as WorkspaceStatus) : "UNKNOWN";
}

function workspace(w: RawWorkspace): TailnetWorkspace {
  return { id: bytesToUuid(w.id, "workspace id"), name: w.name ?? "", status: statusName(w.status) };
}

function agent(a: RawAgent): TailnetAgent {
  return { id: bytesToUuid(a.id, "agent id"), name: a.name ?? "", workspaceId: bytesToUuid(a.workspace_id, "agent workspace_id") };
}

/** Decodes one WorkspaceUpdate message; malformed protobuf or a non-UUID id is a TailnetProtocolError. */
export function decodeWorkspaceUpdate(bytes: Uint8Array): WorkspaceUpdate {
  let raw: RawUpdate;
  try {
    raw = UpdateType.toObject(UpdateType.decode(bytes), { arrays: true, enums: Number }) as RawUpdate;
  } catch (e) {
    throw new TailnetProtocolError("protobuf", `WorkspaceUpdate does not decode: ${(e as Error).message}`);
  }
  return {
    upsertedWorkspaces: (raw.upserted_workspaces ?? []).map(workspace),
    upsertedAgents: (raw.upserted_agents ?? []).map(agent),
    deletedWorkspaces: (raw.deleted_workspaces ?? []).map(workspace),
    deletedAgents: (raw.deleted_agents ?? []).map(agent),
  };
}

// Hand-written protobuf for the simulator's WorkspaceUpdates RPC (no shared code with the product's
// protobufjs codecs). Field numbers from Coder's tailnet.proto:
//   WorkspaceUpdatesRequest { bytes workspace_owner_id = 1; }
//   WorkspaceUpdate { repeated Workspace upserted_workspaces = 1; repeated Agent upserted_agents = 2;
//                     repeated Workspace deleted_workspaces = 3; repeated Agent deleted_agents = 4; }
//   Workspace { bytes id = 1; string name = 2; Status status = 3; }   Agent { bytes id = 1; string name = 2; bytes workspace_id = 3; }
// proto3: fields holding their default (empty, 0) are not written.

/** Workspace.Status by Coder's workspace status string (tailnet.WorkspaceStatusToProto). */
export const STATUS_NUMBER: Record<string, number> = {
  pending: 1, starting: 2, running: 3, stopping: 4, stopped: 5, failed: 6, canceling: 7, canceled: 8, deleting: 9, deleted: 10,
};

export interface PbWorkspace { id: string; name: string; status: string }
export interface PbAgent { id: string; name: string; workspaceId: string }
export interface PbUpdate {
  upsertedWorkspaces: PbWorkspace[];
  upsertedAgents: PbAgent[];
  deletedWorkspaces: PbWorkspace[];
  deletedAgents: PbAgent[];
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

function lenField(field: number, b: Buffer): Buffer[] {
  return b.length ? [Buffer.from([(field << 3) | 2, ...varint(b.length)]), b] : [];
}

function uuidBytes(id: string): Buffer {
  return Buffer.from(id.replace(/-/g, ""), "hex");
}

function workspaceMsg(w: PbWorkspace): Buffer {
  const status = STATUS_NUMBER[w.status] ?? 0;
  return Buffer.concat([
    ...lenField(1, uuidBytes(w.id)),
    ...lenField(2, Buffer.from(w.name, "utf8")),
    ...(status ? [Buffer.from([(3 << 3) | 0, ...varint(status)])] : []),
  ]);
}

function agentMsg(a: PbAgent): Buffer {
  return Buffer.concat([...lenField(1, uuidBytes(a.id)), ...lenField(2, Buffer.from(a.name, "utf8")), ...lenField(3, uuidBytes(a.workspaceId))]);
}

/** An embedded message is written even when empty (a repeated element must appear). */
function msgField(field: number, b: Buffer): Buffer[] {
  return [Buffer.from([(field << 3) | 2, ...varint(b.length)]), b];
}

export function encodeUpdate(u: PbUpdate): Buffer {
  return Buffer.concat([
    ...u.upsertedWorkspaces.flatMap((w) => msgField(1, workspaceMsg(w))),
    ...u.upsertedAgents.flatMap((a) => msgField(2, agentMsg(a))),
    ...u.deletedWorkspaces.flatMap((w) => msgField(3, workspaceMsg(w))),
    ...u.deletedAgents.flatMap((a) => msgField(4, agentMsg(a))),
  ]);
}

/** Reads WorkspaceUpdatesRequest.workspace_owner_id (raw bytes; "" when absent). Unknown fields are skipped. */
export function decodeOwnerId(b: Buffer): Buffer {
  let i = 0;
  let owner: Buffer = Buffer.alloc(0);
  const readVarint = (): number => {
    let v = 0;
    let mul = 1;
    for (let j = 0; j < 10; j++) {
      if (i >= b.length) throw new Error("truncated varint");
      const x = b[i++]!;
      v += (x & 127) * mul;
      mul *= 128;
      if (x < 128) return v;
    }
    throw new Error("varint too long");
  };
  while (i < b.length) {
    const key = readVarint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) readVarint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else if (wire === 2) {
      const n = readVarint();
      if (i + n > b.length) throw new Error("truncated length-delimited field");
      if (field === 1) owner = b.subarray(i, i + n);
      i += n;
    } else throw new Error(`unsupported wire type ${wire}`);
    if (i > b.length) throw new Error("truncated field");
  }
  return owner;
}

export function bytesToUuid(b: Buffer): string {
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

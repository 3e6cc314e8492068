// Coder's tailnet RPC (websocket + yamux + drpc + protobuf): the WorkspaceUpdates stream.
export { dialTailnet, tailnetUrl, TailnetConnection, WorkspaceUpdatesStream, DEFAULT_TAILNET_LIMITS, TAILNET_API_VERSION, WORKSPACE_UPDATES_RPC, type TailnetDialOptions, type TailnetLimits } from "./client.ts";
export { TailnetClosedError, TailnetDialError, TailnetProtocolError, TailnetRemoteError, PERMANENT_DIAL_STATUSES } from "./errors.ts";
export { WORKSPACE_STATUSES, uuidToBytes, type TailnetAgent, type TailnetWorkspace, type WorkspaceStatus, type WorkspaceUpdate } from "./proto.ts";

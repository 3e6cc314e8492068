// Errors of the tailnet RPC client, classified the way Coder's dialer (codersdk/workspacesdk/dialer.go)
// classifies them: an HTTP answer whose status is in permanentErrorStatuses is permanent (retrying cannot
// help: bad version, no permission, connections disabled, database down); everything else (5xx other than
// 500, 429, connection errors, a dropped session) is worth retrying.

/** Coder's permanentErrorStatuses (newest dialer): 409, 400, 404, 500, 403, 401. */
export const PERMANENT_DIAL_STATUSES: readonly number[] = [409, 400, 404, 500, 403, 401];

/** The websocket dial of /api/v2/tailnet failed. `status` 0 means no HTTP answer (network, timeout, abort). */
export class TailnetDialError extends Error {
  readonly status: number;
  readonly permanent: boolean;
  readonly code: string | undefined;

  constructor(message: string, status: number, code?: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "TailnetDialError";
    this.status = status;
    this.code = code;
    this.permanent = status !== 0 && PERMANENT_DIAL_STATUSES.includes(status);
  }

  get retryable(): boolean {
    return !this.permanent && this.code !== "ABORTED";
  }
}

/** The server broke the wire protocol (websocket, yamux or drpc framing). Never retried silently. */
export class TailnetProtocolError extends Error {
  /** Which layer saw it: "websocket", "yamux", "drpc" or "protobuf". */
  readonly layer: string;

  constructor(layer: string, message: string) {
    super(`tailnet ${layer} protocol error: ${message}`);
    this.name = "TailnetProtocolError";
    this.layer = layer;
  }
}

/** The server answered the RPC with a drpc error packet (code + message, as drpcwire.MarshalError). */
export class TailnetRemoteError extends Error {
  readonly code: bigint;

  constructor(rpc: string, code: bigint, message: string) {
    super(`${rpc}: server error${code !== 0n ? ` (drpc code ${code})` : ""}: ${message}`);
    this.name = "TailnetRemoteError";
    this.code = code;
  }
}

/** The connection or stream ended (remote close, reset, GoAway, socket closed) before the caller was done. */
export class TailnetClosedError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "TailnetClosedError";
  }
}

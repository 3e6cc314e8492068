// Per-request context handed to route handlers: parsed URL, path params, the authenticated actor,
// and helpers that write responses the way Coder's httpapi.Write does.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { SimApiKey, SimUser } from "../state.ts";

export interface ValidationError { field: string; detail: string }

/** Thrown by handlers (or helpers) to answer with Coder's error shape. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly detail?: string,
    readonly validations?: ValidationError[],
  ) {
    super(message);
  }
}

export const NOT_FOUND_MESSAGE = "Resource not found or you do not have access to this resource";
export const notFound = (): HttpError => new HttpError(404, NOT_FOUND_MESSAGE);
export const forbidden = (): HttpError =>
  new HttpError(
    403,
    "Forbidden.",
    "You don't have permission to view this content. If you believe this is a mistake, please contact your administrator or try signing in with different credentials.",
  );

export interface Actor {
  user: SimUser;
  key: SimApiKey;
}

const MAX_BODY = 1 << 20;

export class Ctx {
  readonly url: URL;
  readonly query: URLSearchParams;
  params: Record<string, string> = {};
  actor: Actor | undefined;
  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
  ) {
    this.url = new URL(req.url ?? "/", "http://sim.invalid");
    this.query = this.url.searchParams;
  }

  get method(): string {
    return (this.req.method ?? "GET").toUpperCase();
  }

  get path(): string {
    return this.url.pathname;
  }

  param(name: string): string {
    const v = this.params[name];
    if (v === undefined) throw new Error(`route has no path parameter {${name}}`);
    return v;
  }

  /** The authenticated actor; only call on routes that require auth. */
  get me(): Actor {
    if (!this.actor) throw new HttpError(401, "You are signed out or your session has expired. Please sign in again to continue.");
    return this.actor;
  }

  json(status: number, body: unknown): void {
    const text = JSON.stringify(body);
    this.res.writeHead(status, {
      "Content-Type": "application/json; charset=utf-8",
      "Content-Length": Buffer.byteLength(text),
    });
    this.res.end(this.method === "HEAD" ? undefined : text);
  }

  error(status: number, message: string, detail?: string, validations?: ValidationError[]): void {
    const body: { message: string; detail?: string; validations?: ValidationError[] } = { message };
    if (detail !== undefined) body.detail = detail;
    if (validations !== undefined) body.validations = validations;
    this.json(status, body);
  }

  noContent(): void {
    this.res.writeHead(204);
    this.res.end();
  }

  /** Read and parse the JSON body, answering 400 like Coder's httpapi.Read on bad JSON. */
  async body(): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of this.req) {
      const b = chunk as Buffer;
      size += b.length;
      if (size > MAX_BODY) throw new HttpError(400, "Request body must be valid JSON.", "request body too large");
      chunks.push(b);
    }
    const text = Buffer.concat(chunks).toString("utf8");
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new HttpError(400, "Request body must be valid JSON.", (e as Error).message);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new HttpError(400, "Request body must be valid JSON.", "expected a JSON object");
    }
    return parsed as Record<string, unknown>;
  }
}

// A tiny scripted HTTP server on loopback for the Coder client's tests: records every request
// (method, path, query, headers, JSON body) and answers with a per-test handler.

import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface RecordedRequest {
  method: string;
  /** Path without query. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** Parsed JSON body, or undefined when there was none. */
  body: unknown;
  /** Local port of the client's socket (distinct values = distinct connections). */
  remotePort: number;
  at: number;
}

export type TestHandler = (req: RecordedRequest, res: ServerResponse, raw: IncomingMessage) => void | Promise<void>;

export interface TestServer {
  url: string;
  server: Server;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startTestServer(handler: TestHandler): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((raw, res) => {
    const chunks: Buffer[] = [];
    raw.on("data", (c: Buffer) => chunks.push(c));
    raw.on("end", () => {
      const rawBody = Buffer.concat(chunks).toString("utf8");
      const u = new URL(raw.url ?? "/", "http://127.0.0.1");
      let body: unknown;
      if (rawBody !== "") {
        try {
          body = JSON.parse(rawBody);
        } catch {
          body = rawBody;
        }
      }
      const rec: RecordedRequest = {
        method: raw.method ?? "",
        path: u.pathname,
        query: u.searchParams,
        headers: raw.headers,
        rawBody,
        body,
        remotePort: raw.socket.remotePort ?? 0,
        at: Date.now(),
      };
      requests.push(rec);
      Promise.resolve(handler(rec, res, raw)).catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { message: "test handler threw", detail: String(err) });
      });
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, {
    ...(text ? { "content-type": "application/json" } : {}),
    "content-length": String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** A loopback port with nothing listening (bound then released). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Minimal codersdk objects for handlers. */
export const fixtures = {
  job(status: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { id: "66666666-6666-4666-8666-666666666666", created_at: "2024-01-01T00:00:00Z", status, ...extra };
  },
  agent(status: string, lifecycle: string, name = "main"): Record<string, unknown> {
    return {
      id: "77777777-7777-4777-8777-777777777777",
      name,
      created_at: "2024-01-01T00:00:00Z",
      status,
      lifecycle_state: lifecycle,
    };
  },
  build(jobStatus: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      id: "55555555-5555-4555-8555-555555555555",
      build_number: 1,
      created_at: "2024-01-01T00:00:00Z",
      updated_at: "2024-01-01T00:00:00Z",
      job: fixtures.job(jobStatus),
      resources: [],
      status: jobStatus === "succeeded" ? "running" : jobStatus === "failed" ? "failed" : "starting",
      template_version_id: "44444444-4444-4444-8444-444444444444",
      transition: "start",
      workspace_id: "33333333-3333-4333-8333-333333333333",
      workspace_name: "scaletest-abc-0001",
      workspace_owner_id: "22222222-2222-4222-8222-222222222222",
      workspace_owner_name: "scaletest-abc-0001",
      ...extra,
    };
  },
  workspace(build: Record<string, unknown>): Record<string, unknown> {
    return {
      id: "33333333-3333-4333-8333-333333333333",
      name: "scaletest-abc-0001",
      owner_id: "22222222-2222-4222-8222-222222222222",
      owner_name: "scaletest-abc-0001",
      organization_id: "11111111-1111-4111-8111-111111111111",
      template_id: "88888888-8888-4888-8888-888888888888",
      template_name: "kubernetes",
      created_at: "2024-01-01T00:00:00Z",
      updated_at: "2024-01-01T00:00:00Z",
      latest_build: build,
    };
  },
};

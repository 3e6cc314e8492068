// Loopback stand-ins for the pipeline's outside services: a Grafana annotations API and a Slack-compatible
// webhook receiver. Both record every request; Grafana answers as the real one does.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: Record<string, unknown> | null;
}

export interface Annotation {
  id: number;
  time: number;
  timeEnd: number | null;
  tags: string[];
  text: string;
}

export interface FakeGrafana {
  url: string;
  requests: RecordedRequest[];
  /** Annotations by id, with their timeEnd once patched. */
  annotations: Map<number, Annotation>;
  /** Answer every request with this status (e.g. 500) from now on; null answers normally again. */
  failWith(status: number | null): void;
  /** Answer only PATCH requests (closing a region) with this status; null answers normally again. */
  failPatchesWith(status: number | null): void;
  /** Called (and awaited) before a POST is answered: lets a test look at the world while a phase opens. */
  onCreate?: (a: Annotation) => Promise<void> | void;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown> | null> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (!text) return null;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { raw: text };
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

export async function startFakeGrafana(): Promise<FakeGrafana> {
  let failing: number | null = null;
  let failingPatch: number | null = null;
  let nextId = 1;
  const fake: FakeGrafana = {
    url: "",
    requests: [],
    annotations: new Map(),
    failWith: (s) => void (failing = s),
    failPatchesWith: (s) => void (failingPatch = s),
    close: () => close(server),
  };
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const path = req.url ?? "/";
      fake.requests.push({ method: req.method ?? "", path, headers: req.headers, body });
      if (failing !== null) return json(res, failing, { message: "Internal Server Error" });
      if (failingPatch !== null && req.method === "PATCH") return json(res, failingPatch, { message: "Failed to update annotation" });
      if (req.headers.authorization === undefined) return json(res, 401, { message: "Unauthorized" });
      if (req.method === "POST" && path === "/api/annotations") {
        const a: Annotation = {
          id: nextId++,
          time: Number(body?.["time"]),
          timeEnd: null,
          tags: (body?.["tags"] as string[] | undefined) ?? [],
          text: String(body?.["text"] ?? ""),
        };
        fake.annotations.set(a.id, a);
        await fake.onCreate?.(a);
        return json(res, 200, { id: a.id, message: "Annotation added" });
      }
      const m = /^\/api\/annotations\/(\d+)$/.exec(path);
      const existing = m ? fake.annotations.get(Number(m[1])) : undefined;
      if (req.method === "PATCH" && existing) {
        if (body?.["timeEnd"] !== undefined) existing.timeEnd = Number(body["timeEnd"]);
        if (Array.isArray(body?.["tags"])) existing.tags = body["tags"] as string[];
        return json(res, 200, { message: "Annotation patched" });
      }
      json(res, 404, { message: "Not found" });
    })().catch((e: unknown) => json(res, 500, { message: String(e) }));
  });
  fake.url = await listen(server);
  return fake;
}

export interface WebhookReceiver {
  url: string;
  bodies: { text: string; blocks: unknown[] }[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const bodies: WebhookReceiver["bodies"] = [];
  const server = createServer((req, res) => {
    void readBody(req).then((b) => {
      bodies.push(b as WebhookReceiver["bodies"][number]);
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  const url = `${await listen(server)}/services/T000/B000/XXXX`;
  return { url, bodies, close: () => close(server) };
}

/** A loopback URL nothing listens on (bound, then closed). */
export async function unreachableUrl(): Promise<string> {
  const server = createServer();
  const url = await listen(server);
  await close(server);
  return url;
}

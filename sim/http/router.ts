// Path-pattern router. Patterns use Coder's swagger style ("/api/v2/users/{user}") plus a trailing
// "*" that captures the rest of the path (for app proxies). Literal segments win over parameters,
// so "/users/me" style literals and "/users/{user}" can coexist.
import type { Ctx } from "./context.ts";

export type Handler = (ctx: Ctx) => void | Promise<void>;

export interface RouteOptions {
  /** Require a valid session token (default true). */
  auth?: boolean;
}

interface Route {
  method: string;
  pattern: string;
  segments: string[];
  handler: Handler;
  auth: boolean;
  /** Ordering key: literal segments sort before parameters. */
  rank: string;
}

export type MatchResult =
  | { kind: "found"; route: { method: string; pattern: string; handler: Handler; auth: boolean }; params: Record<string, string> }
  | { kind: "method-not-allowed" }
  | { kind: "none" };

export class Router {
  private routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler, opts: RouteOptions = {}): void {
    const segments = pattern.split("/").slice(1);
    const rank = segments.map((s) => (s === "*" ? "2" : s.startsWith("{") ? "1" : "0")).join("");
    this.routes.push({ method: method.toUpperCase(), pattern, segments, handler, auth: opts.auth ?? true, rank });
    this.routes.sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
  }

  /** Every registered (method, pattern), for contract coverage checks. */
  list(): { method: string; pattern: string }[] {
    return this.routes.map((r) => ({ method: r.method, pattern: r.pattern }));
  }

  match(method: string, path: string): MatchResult {
    const parts = path.split("/").slice(1);
    let pathMatched = false;
    for (const r of this.routes) {
      const params = matchSegments(r.segments, parts);
      if (!params) continue;
      if (r.method !== method && !(method === "HEAD" && r.method === "GET")) {
        pathMatched = true;
        continue;
      }
      return { kind: "found", route: r, params };
    }
    return pathMatched ? { kind: "method-not-allowed" } : { kind: "none" };
  }
}

export function matchSegments(pattern: string[], parts: string[]): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] as string;
    if (p === "*") {
      params["*"] = parts.slice(i).join("/");
      return params;
    }
    const actual = parts[i];
    if (actual === undefined) return null;
    if (p.startsWith("{") && p.endsWith("}")) {
      if (actual === "") return null;
      try {
        params[p.slice(1, -1)] = decodeURIComponent(actual);
      } catch {
        return null;
      }
    } else if (p !== actual) {
      return null;
    }
  }
  return parts.length === pattern.length ? params : null;
}

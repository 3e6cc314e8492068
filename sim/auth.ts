// Session-token authentication as coderd's httpmw.ExtractAPIKey does it: the token comes from the
// `coder_session_token` cookie, then the query parameter of the same name, then the
// `Coder-Session-Token` header; it is "<10-char id>-<22-char secret>".
import type { IncomingMessage } from "node:http";
import { HttpError, type Actor } from "./http/context.ts";
import type { SimState } from "./state.ts";

export const SESSION_COOKIE = "coder_session_token";
export const SESSION_HEADER = "coder-session-token";
const SIGNED_OUT = "You are signed out or your session has expired. Please sign in again to continue.";

export function tokenFromRequest(req: IncomingMessage, query: URLSearchParams): string {
  const cookie = req.headers.cookie;
  if (cookie) {
    for (const part of cookie.split(";")) {
      const eq = part.indexOf("=");
      if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
        const v = part.slice(eq + 1).trim();
        if (v) return v;
      }
    }
  }
  const q = query.get(SESSION_COOKIE);
  if (q) return q;
  const h = req.headers[SESSION_HEADER];
  if (typeof h === "string" && h) return h;
  return "";
}

/** Resolve a token to its user and key, or throw Coder's 401 response. */
export function authenticate(state: SimState, token: string, now: number): Actor {
  if (!token) {
    throw new HttpError(401, SIGNED_OUT, `Cookie "${SESSION_COOKIE}" or query parameter must be provided.`);
  }
  const parts = token.split("-");
  if (parts.length !== 2) {
    throw new HttpError(401, SIGNED_OUT, `Invalid API key format: incorrect amount of API key parts, expected 2 got ${parts.length}`);
  }
  const [id, secret] = parts as [string, string];
  if (id.length !== 10) {
    throw new HttpError(401, SIGNED_OUT, `Invalid API key format: invalid API key ID length, expected 10 got ${id.length}`);
  }
  if (secret.length !== 22) {
    throw new HttpError(401, SIGNED_OUT, `Invalid API key format: invalid API key secret length, expected 22 got ${secret.length}`);
  }
  const key = state.apiKeys.get(id);
  if (!key) throw new HttpError(401, SIGNED_OUT, "API key is invalid.");
  if (key.secret !== secret) throw new HttpError(401, SIGNED_OUT, "API key secret is invalid.");
  if (key.expiresAt < now) {
    throw new HttpError(401, SIGNED_OUT, `API key expired at "${new Date(key.expiresAt).toISOString()}".`);
  }
  const user = state.users.get(key.userId);
  if (!user || user.deleted) throw new HttpError(401, SIGNED_OUT, "API key is invalid.");
  if (user.status === "suspended") {
    throw new HttpError(401, `User is not active (status = "${user.status}"). Contact an admin to reactivate your account.`);
  }
  // Coder activates dormant users on their first authenticated request.
  if (user.status === "dormant") user.status = "active";
  key.lastUsed = now;
  user.lastSeenAt = now;
  return { user, key };
}

export const isOwner = (a: Actor): boolean => a.user.roles.includes("owner");

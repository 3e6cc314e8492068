// Where a session token may be sent. The run's tokens go only to the deployment's own origin, to a host
// under the deployment's registrable domain (its wildcard app host, e.g. `*.apps.coder.example.com` for
// `coder.example.com`; decided with the public suffix list, private suffixes included, so two tenants
// of `github.io` or `co.uk` never count as one), or to an origin the operator listed in
// --trusted-origins. Anything else — an app host a compromised or misconfigured server names — is
// refused before a connection is opened, with an error naming the setting.
import { getDomain } from "tldts";

/** The setting that widens the rule (named in every refusal). */
export const TRUSTED_ORIGINS_SETTING = "--trusted-origins (SCALETEST_TRUSTED_ORIGINS)";

/** ws: -> http:, wss: -> https: (a websocket shares its origin with the HTTP form). */
function httpProtocol(p: string): string {
  return p === "ws:" ? "http:" : p === "wss:" ? "https:" : p;
}

/** `scheme://host[:port]` with websocket schemes mapped to their HTTP form; throws on a non-URL. */
export function normalizeOrigin(u: string | URL): string {
  const url = new URL(typeof u === "string" ? u : u.href);
  const proto = httpProtocol(url.protocol);
  if (proto !== "http:" && proto !== "https:") throw new Error(`not an http(s)/ws(s) origin: ${url.protocol}//${url.host}`);
  const port = url.port && !((proto === "http:" && url.port === "80") || (proto === "https:" && url.port === "443")) ? `:${url.port}` : "";
  return `${proto}//${url.hostname}${port}`;
}

function registrableDomain(hostname: string): string | null {
  return getDomain(hostname, { allowPrivateDomains: true }) ?? null;
}

/** Why `target` may receive the deployment's tokens, or null when it may not. */
export function tokenDestinationReason(deployment: URL, target: URL, trusted: readonly string[] = []): "same-origin" | "registrable-domain" | "trusted" | null {
  let origin: string;
  try {
    origin = normalizeOrigin(target);
  } catch {
    return null;
  }
  if (origin === normalizeOrigin(deployment)) return "same-origin";
  if (trusted.some((t) => normalizeOrigin(t) === origin)) return "trusted";
  // Same registrable domain, and never a downgrade from https to http.
  const secure = httpProtocol(deployment.protocol) === "https:";
  if (secure && httpProtocol(target.protocol) !== "https:") return null;
  const mine = registrableDomain(deployment.hostname);
  if (mine !== null && registrableDomain(target.hostname) === mine) return "registrable-domain";
  return null;
}

/** Throws a clear error unless `target` may receive the deployment's tokens. */
export function assertTokenDestination(deployment: URL, target: URL, trusted: readonly string[] = []): void {
  if (tokenDestinationReason(deployment, target, trusted) !== null) return;
  let shown: string;
  try {
    shown = normalizeOrigin(target);
  } catch {
    shown = `${target.protocol}//${target.host}`;
  }
  throw new Error(
    `refusing to send the session token to ${shown}: it is neither the deployment's origin (${normalizeOrigin(deployment)}) ` +
      `nor under its registrable domain; if this origin is yours (e.g. a wildcard app host on another domain), ` +
      `allow it with ${TRUSTED_ORIGINS_SETTING}`,
  );
}

/** Validates a --trusted-origins entry: an http(s) origin with no path, credentials, query or fragment. */
export function parseTrustedOrigin(s: string): string {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new Error(`${JSON.stringify(s)} is not a URL: give an origin such as https://apps.example.net`);
  }
  if (u.username || u.password || (u.pathname !== "/" && u.pathname !== "") || u.search || u.hash) {
    throw new Error(`${JSON.stringify(s)} is not a bare origin: give scheme://host[:port] only, e.g. https://apps.example.net`);
  }
  return normalizeOrigin(u);
}

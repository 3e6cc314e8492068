/**
 * `ws` client options shared by the raw-ws floor and our engine's bench dialer, so both pay the same
 * websocket cost. BENCH_WS_ZERO_MASK=1 is an experiment knob (see bench/README.md, engine profile): an
 * all-zero masking key makes `ws` skip masking and the per-message copy it implies. Never the default:
 * RFC 6455 wants unpredictable keys from clients.
 */
import type { ClientOptions } from "ws";

export function benchWsClientOptions(): ClientOptions {
  const o: ClientOptions = { perMessageDeflate: false };
  if (process.env.BENCH_WS_ZERO_MASK === "1") o.generateMask = (mask: Buffer) => void mask.fill(0);
  return o;
}

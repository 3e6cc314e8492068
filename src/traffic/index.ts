export { runTraffic, type RunTrafficOptions, type TrafficProgress } from "./engine.ts";
export type { TrafficConnection, TrafficDialer, TrafficTarget, TrafficKind, EchoMode } from "./transport.ts";
export { LatencyHistogram, EMPTY_SUMMARY, type PercentileSummary } from "./histogram.ts";
export {
  mergeTrafficResults,
  emptyTotals,
  type TrafficResult,
  type TrafficTotals,
  type ConnectionResult,
  type ConnectionStatus,
  type TrafficError,
  type TimelinePoint,
} from "./result.ts";
export {
  selectTargets,
  parseTargetRange,
  applyTargetRange,
  applyPercentage,
  parseShard,
  shardBounds,
  applyShard,
  percentageSlices,
  validatePercentage,
  byName,
  type TargetRange,
  type TargetNoun,
  type Shard,
  type SelectOptions,
  type PercentageSlice,
} from "./targets.ts";
export { makePayload, makePayloadPool, PAYLOAD_ALPHABET, seededRandom } from "./payload.ts";

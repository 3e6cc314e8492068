/**
 * The Kubernetes objects of one sharded traffic phase: an Indexed `batch/v1` Job (N pods, each running
 * shard-main.ts with `--shard $(JOB_COMPLETION_INDEX)/N`) and the Secret with the phase's secret settings.
 *
 * Both carry `scaletest.coder.com/run-id=<runId>` and `scaletest.coder.com/phase=<phase>`, so cleanup finds
 * every object of a run by label even after the runner crashed. Plain objects (the shapes of the API), so
 * tests can validate them against the Kubernetes schemas (kubernetes-models).
 */
import type { V1Job, V1Secret } from "@kubernetes/client-node";
import { join } from "node:path";
import {
  LABEL_APP,
  LABEL_JOB,
  LABEL_PHASE,
  LABEL_RUN_ID,
  SHARD_APP,
  COMPLETION_INDEX_ANNOTATION,
  jobName,
  secretName,
  shardResultPath,
  shardWorkDir,
} from "./paths.ts";
import type { ShardRunSpec } from "./types.ts";

/** Where shard results go: a ReadWriteMany claim mounted at the results dir, or the pod log (no shared volume). */
export type ShardResultsTransport = { mode: "log" } | { mode: "volume"; claimName: string };

export interface ShardJobOptions {
  namespace: string;
  /** The runner image (the same project, at `projectDir`). */
  image: string;
  imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
  /** Where the image holds the project (template/Dockerfile: /opt/scaletest-runner). */
  projectDir?: string;
  results: ShardResultsTransport;
  /**
   * Pod failures tolerated across all shards before the Job fails (default: runners, i.e. about one retry
   * per shard). Exit 2 (bad settings) fails the Job at once; evictions do not count.
   */
  backoffLimit?: number;
  /** Finished Jobs are garbage-collected after this long even if cleanup never ran (default 24 h). */
  ttlSecondsAfterFinished?: number;
  /** Per pod (default: requests 500m / 512Mi, limits 2 CPU / 2Gi). */
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  /** Extra pod labels (e.g. the runner's `app.kubernetes.io/instance`, for a PodMonitor). */
  podLabels?: Record<string, string>;
  /** Metrics port of each shard pod (named "metrics" for a PodMonitor). Default 21112; 0 disables. */
  metricsPort?: number;
}

/** Kubernetes expands `$(VAR)` in args and env values; user-given text must not be expanded. */
function literal(s: string): string {
  return s.replaceAll("$(", () => "$$(");
}

export function objectLabels(runId: string, phase: string): Record<string, string> {
  return { [LABEL_RUN_ID]: runId, [LABEL_PHASE]: phase.slice(0, 63), [LABEL_JOB]: jobName(runId, phase), [LABEL_APP]: SHARD_APP };
}

/** The Secret with the phase's secret settings (env var name -> value). */
export function buildShardSecret(spec: ShardRunSpec, namespace: string): V1Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: secretName(spec.runId, spec.phase), namespace, labels: objectLabels(spec.runId, spec.phase) },
    type: "Opaque",
    stringData: { ...spec.secretEnv },
  };
}

export function buildShardJob(spec: ShardRunSpec, o: ShardJobOptions): V1Job {
  const n = spec.runners;
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new Error(`runners must be an integer in 1..100 (got ${n})`);
  if (!o.image) throw new Error("no runner image for the scale-out Job: set --runner-image (SCALETEST_RUNNER_IMAGE)");
  const name = jobName(spec.runId, spec.phase);
  const labels = objectLabels(spec.runId, spec.phase);
  const index = "$(JOB_COMPLETION_INDEX)";
  const projectDir = o.projectDir ?? "/opt/scaletest-runner";
  const scratch = "/tmp/scaletest";
  const volumeMode = o.results.mode === "volume";
  // On the shared volume the layout is the runner's own; with log collection the shard writes to scratch space.
  const resultsRoot = volumeMode ? spec.resultsDir : scratch;
  const metricsPort = o.metricsPort ?? 21112;
  const args = [
    "--script",
    join("scenarios", `${spec.script}.ts`),
    "--result",
    volumeMode ? shardResultPath(resultsRoot, spec.runId, spec.phase, index) : "log",
    "--",
    "--shard",
    `${index}/${n}`,
    "--run-id",
    spec.runId,
    "--results-dir",
    shardWorkDir(resultsRoot, spec.runId, spec.phase, index),
    "--metrics-address",
    metricsPort ? `0.0.0.0:${metricsPort}` : "",
    ...(spec.scriptArgs ?? []).map(literal),
  ];
  const secret = secretName(spec.runId, spec.phase);
  const env = [
    // Declared first so `$(JOB_COMPLETION_INDEX)` in args expands on every cluster version (the controller adds it too).
    { name: "JOB_COMPLETION_INDEX", valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX_ANNOTATION}']` } } },
    { name: "TMPDIR", value: scratch },
    ...Object.entries(spec.env ?? {})
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => ({ name: k, value: literal(v) })),
    ...Object.keys(spec.secretEnv ?? {})
      .sort()
      .map((k) => ({ name: k, valueFrom: { secretKeyRef: { name: secret, key: k } } })),
  ];
  const volumes: NonNullable<NonNullable<V1Job["spec"]>["template"]["spec"]>["volumes"] = [{ name: "scratch", emptyDir: {} }];
  const mounts = [{ name: "scratch", mountPath: scratch }];
  if (o.results.mode === "volume") {
    volumes.push({ name: "results", persistentVolumeClaim: { claimName: o.results.claimName } });
    mounts.push({ name: "results", mountPath: spec.resultsDir });
  }
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace: o.namespace, labels },
    spec: {
      completionMode: "Indexed",
      completions: n,
      parallelism: n,
      backoffLimit: o.backoffLimit ?? n,
      activeDeadlineSeconds: Math.max(1, Math.ceil(spec.timeoutMs / 1000)),
      ttlSecondsAfterFinished: o.ttlSecondsAfterFinished ?? 86_400,
      podFailurePolicy: {
        rules: [
          // Bad settings are the same in every pod: retrying cannot help.
          { action: "FailJob", onExitCodes: { containerName: "shard", operator: "In", values: [2] } },
          // Node drain / preemption is not the shard's fault.
          { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
        ],
      },
      template: {
        metadata: { labels: { ...o.podLabels, ...labels } },
        spec: {
          restartPolicy: "Never",
          // Shards talk to Coder only, never to the Kubernetes API.
          automountServiceAccountToken: false,
          securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: "shard",
              image: o.image,
              imagePullPolicy: o.imagePullPolicy ?? "IfNotPresent",
              workingDir: projectDir,
              // Secrets out of the environment before tsx (and its esbuild service) start: src/boot/register.mjs.
              command: ["node", "--import", join(projectDir, "src", "boot", "register.mjs"), "src/scaleout/shard-main.ts"],
              args,
              env,
              ...(metricsPort ? { ports: [{ name: "metrics", containerPort: metricsPort, protocol: "TCP" }] } : {}),
              resources: o.resources ?? { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "2", memory: "2Gi" } },
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
              volumeMounts: mounts,
            },
          ],
          volumes,
        },
      },
    },
  };
}

/**
 * Runs a traffic phase's shards as a Kubernetes Indexed Job (in-cluster config: the runner pod's service
 * account, allowed by the template's Role to manage Jobs, Secrets and read Pods/logs in its namespace).
 *
 * runShards: create the Job, then its Secret (owned by the Job, so Kubernetes deletes it with the Job); poll
 * the Job until it is Complete or Failed, the deadline passes, or the phase is stopped; then collect each
 * index's result from the shared volume or from the log of its succeeded pod.
 * cleanup / deleteRunJobs: delete every Job and Secret labelled with the run id (propagation Background: the
 * Job's pods go with it).
 */
import { existsSync, readFileSync } from "node:fs";
import * as k8s from "@kubernetes/client-node";
import { buildShardJob, buildShardSecret, type ShardJobOptions } from "./job.ts";
import { COMPLETION_INDEX_ANNOTATION, LABEL_JOB, jobName, runSelector, shardResultPath, shardStatusPath } from "./paths.ts";
import { decodeShardLog } from "./shard-log.ts";
import type { ShardExecutor, ShardOutcome, ShardRunSpec, ShardState } from "./types.ts";
import { sleep } from "../util/sleep.ts";

export interface KubernetesExecutorOptions extends ShardJobOptions {
  /** Default: in-cluster config (service account token and CA of the runner pod). */
  kubeConfig?: k8s.KubeConfig;
  /** Job status poll interval (default 2 s). */
  pollIntervalMs?: number;
  /** Progress lines (Job created, shards active/succeeded/failed). */
  log?: (msg: string) => void;
}

/** KubeConfig for code running in a pod (service account), with a clear error elsewhere. */
export function inClusterConfig(): k8s.KubeConfig {
  if (!process.env.KUBERNETES_SERVICE_HOST) {
    throw new Error(
      "runners > 1 needs Kubernetes: this process is not in a pod (KUBERNETES_SERVICE_HOST unset). Run in the runner workspace, or use --runners 1",
    );
  }
  const kc = new k8s.KubeConfig();
  kc.loadFromCluster();
  return kc;
}

/** "0-2,4,7-8" -> {0,1,2,4,7,8} (the Job's status.completedIndexes / failedIndexes format). */
export function parseIndexes(s: string | undefined): Set<number> {
  const out = new Set<number>();
  for (const part of (s ?? "").split(",")) {
    if (!part) continue;
    const [a, b] = part.split("-").map(Number);
    if (a === undefined || Number.isNaN(a)) continue;
    for (let i = a; i <= (b ?? a); i++) out.add(i);
  }
  return out;
}

function errText(e: unknown): string {
  const x = e as { code?: number; body?: unknown; message?: string };
  if (x && typeof x.code === "number") {
    const body = typeof x.body === "string" ? x.body : JSON.stringify(x.body ?? "");
    let msg = body;
    try {
      msg = (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      // not JSON
    }
    return `HTTP ${x.code}: ${msg}`.slice(0, 500);
  }
  return e instanceof Error ? e.message : String(e);
}

function condition(job: k8s.V1Job, type: string): k8s.V1JobCondition | undefined {
  return job.status?.conditions?.find((c) => c.type === type && c.status === "True");
}

export class KubernetesExecutor implements ShardExecutor {
  readonly name = "kubernetes";
  private readonly kc: k8s.KubeConfig;
  private readonly batch: k8s.BatchV1Api;
  private readonly core: k8s.CoreV1Api;
  private readonly log: (msg: string) => void;

  constructor(private readonly opts: KubernetesExecutorOptions) {
    this.kc = opts.kubeConfig ?? inClusterConfig();
    this.batch = this.kc.makeApiClient(k8s.BatchV1Api);
    this.core = this.kc.makeApiClient(k8s.CoreV1Api);
    this.log = opts.log ?? (() => {});
  }

  async runShards(spec: ShardRunSpec): Promise<ShardOutcome[]> {
    const ns = this.opts.namespace;
    const manifest = buildShardJob(spec, this.opts);
    const name = manifest.metadata!.name!;
    let job: k8s.V1Job;
    try {
      job = await this.batch.createNamespacedJob({ namespace: ns, body: manifest });
    } catch (e) {
      throw new Error(`cannot create Job ${ns}/${name}: ${errText(e)} (does the runner's service account have the template's Role?)`);
    }
    this.log(`scale-out: Job ${ns}/${name} created: ${spec.runners} pods of ${this.opts.image}`);
    if (spec.secretEnv && Object.keys(spec.secretEnv).length) {
      const secret = buildShardSecret(spec, ns);
      secret.metadata!.ownerReferences = [{ apiVersion: "batch/v1", kind: "Job", name, uid: job.metadata!.uid!, blockOwnerDeletion: false }];
      try {
        await this.core.createNamespacedSecret({ namespace: ns, body: secret });
      } catch (e) {
        await this.deleteJob(name).catch(() => {});
        throw new Error(`cannot create Secret ${ns}/${secret.metadata!.name}: ${errText(e)}`);
      }
    }

    const deadline = Date.now() + spec.timeoutMs;
    let end: "done" | "timeout" | "aborted" = "done";
    let lastLine = "";
    for (;;) {
      try {
        job = await this.batch.readNamespacedJob({ name, namespace: ns });
      } catch (e) {
        this.log(`scale-out: reading Job ${name} failed (${errText(e)}); retrying`);
      }
      const st = job.status ?? {};
      const line = `active ${st.active ?? 0}, succeeded ${st.succeeded ?? 0}, failed ${st.failed ?? 0}`;
      if (line !== lastLine) this.log(`scale-out: Job ${name}: ${line}`);
      lastLine = line;
      if (condition(job, "Complete") || condition(job, "Failed")) break;
      if (spec.signal?.aborted) {
        end = "aborted";
        break;
      }
      if (Date.now() >= deadline) {
        end = "timeout";
        break;
      }
      await sleep(Math.min(this.opts.pollIntervalMs ?? 2000, Math.max(1, deadline - Date.now())), spec.signal);
    }
    const failed = condition(job, "Failed");
    const completed = parseIndexes(job.status?.completedIndexes);
    const outcomes = await this.collect(spec, name, completed);
    for (const o of outcomes) {
      if (o.state === "succeeded") continue;
      if (end !== "done") o.state = end as ShardState;
      o.message = [o.message, end === "timeout" ? `Job still running after ${spec.timeoutMs} ms` : "", failed ? `Job failed: ${failed.reason}: ${failed.message ?? ""}` : ""]
        .filter(Boolean)
        .join("; ");
    }
    if (end !== "done") {
      // Stop what still runs; results already collected stay. The Job object itself goes at cleanup.
      await this.batch.deleteNamespacedJob({ name, namespace: ns, propagationPolicy: "Background" }).catch(() => {});
    }
    return outcomes;
  }

  /** One outcome per index: the result of its succeeded pod, or why there is none. */
  private async collect(spec: ShardRunSpec, name: string, completed: Set<number>): Promise<ShardOutcome[]> {
    const ns = this.opts.namespace;
    let pods: k8s.V1Pod[] = [];
    try {
      pods = (await this.core.listNamespacedPod({ namespace: ns, labelSelector: `${LABEL_JOB}=${name}` })).items;
    } catch (e) {
      this.log(`scale-out: listing the pods of Job ${name} failed: ${errText(e)}`);
    }
    const out: ShardOutcome[] = [];
    for (let index = 0; index < spec.runners; index++) {
      const shard = `${index}/${spec.runners}`;
      const mine = pods.filter((p) => p.metadata?.annotations?.[COMPLETION_INDEX_ANNOTATION] === String(index));
      const ok = mine.find((p) => p.status?.phase === "Succeeded");
      if (!completed.has(index) || !ok) {
        const last = mine.at(-1);
        const term = last?.status?.containerStatuses?.[0]?.state?.terminated;
        const why = term ? `pod ${last?.metadata?.name} exited ${term.exitCode} (${term.reason ?? "error"})` : last ? `pod ${last.metadata?.name} ${last.status?.phase ?? "unknown"}` : "no pod";
        out.push({ index, shard, state: "failed", exitCode: term?.exitCode ?? null, message: why });
        continue;
      }
      const podName = ok.metadata!.name!;
      try {
        out.push(this.opts.results.mode === "volume" ? this.fromVolume(spec, index) : await this.fromLog(podName, index, shard));
      } catch (e) {
        out.push({ index, shard, state: "failed", exitCode: null, message: `pod ${podName}: ${(e as Error).message}` });
      }
    }
    return out;
  }

  private fromVolume(spec: ShardRunSpec, index: number): ShardOutcome {
    const file = shardResultPath(spec.resultsDir, spec.runId, spec.phase, index);
    if (!existsSync(file)) throw new Error(`no result at ${file}: is ${spec.resultsDir} on the same ReadWriteMany volume as the Job's?`);
    const status = existsSync(shardStatusPath(file)) ? (JSON.parse(readFileSync(shardStatusPath(file), "utf8")) as { exitCode?: number }) : {};
    return { index, shard: `${index}/${spec.runners}`, state: "succeeded", exitCode: status.exitCode ?? null, output: JSON.parse(readFileSync(file, "utf8")), source: file };
  }

  private async fromLog(podName: string, index: number, shard: string): Promise<ShardOutcome> {
    const text = await this.core.readNamespacedPodLog({ name: podName, namespace: this.opts.namespace, container: "shard" });
    const p = decodeShardLog(text);
    if (!p) throw new Error("its log holds no result (log rotated, or collected elsewhere?)");
    return { index, shard, state: "succeeded", exitCode: p.exitCode, output: p.output, source: `pod/${podName}` };
  }

  private async deleteJob(name: string): Promise<void> {
    await this.batch.deleteNamespacedJob({ name, namespace: this.opts.namespace, propagationPolicy: "Background" });
  }

  cleanup(runId: string): Promise<string[]> {
    return deleteRunJobs(runId, { namespace: this.opts.namespace, kubeConfig: this.kc });
  }
}

/**
 * Deletes every scale-out Job (with its pods, propagation Background) and Secret of a run, found by the
 * `scaletest.coder.com/run-id` label. Returns "job/<name>" and "secret/<name>" for each object deleted.
 * Safe to call when there are none (runners = 1, or cleanup already ran).
 */
export async function deleteRunJobs(runId: string, o: { namespace: string; kubeConfig?: k8s.KubeConfig }): Promise<string[]> {
  const kc = o.kubeConfig ?? inClusterConfig();
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const ns = o.namespace;
  const labelSelector = runSelector(runId);
  const deleted: string[] = [];
  const notFound = (e: unknown) => (e as { code?: number }).code === 404;
  for (const j of (await batch.listNamespacedJob({ namespace: ns, labelSelector })).items) {
    const name = j.metadata!.name!;
    try {
      await batch.deleteNamespacedJob({ name, namespace: ns, propagationPolicy: "Background" });
      deleted.push(`job/${name}`);
    } catch (e) {
      if (!notFound(e)) throw new Error(`cannot delete Job ${ns}/${name}: ${errText(e)}`);
    }
  }
  for (const s of (await core.listNamespacedSecret({ namespace: ns, labelSelector })).items) {
    const name = s.metadata!.name!;
    try {
      await core.deleteNamespacedSecret({ name, namespace: ns });
      deleted.push(`secret/${name}`);
    } catch (e) {
      if (!notFound(e)) throw new Error(`cannot delete Secret ${ns}/${name}: ${errText(e)}`);
    }
  }
  return deleted;
}

export { jobName };

// Scaling the external provisioner deployment for a run (Coder's prepare.sh scales deployment/coder-provisioner
// to the create concurrency): the replica count before the run is recorded in the run folder, so the end of the
// run, the next cleanup, or the next start after a crash puts it back. Fails soft (warnings).
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync } from "node:fs";
import { writeFileAtomicSync } from "../results/atomic.ts";
import { join } from "node:path";
import { retry } from "zx";
import { kubectl, warn, type Kube } from "./kubectl.ts";

/** `<run>/state/provisioners.json` while scaled; renamed to provisioners-restored.json once restored. */
export const RECORD = join("state", "provisioners.json");
export const RESTORED = join("state", "provisioners-restored.json");

export interface ProvisionerRecord {
  deployment: string;
  namespace: string;
  previousReplicas: number;
  scaledTo: number;
  at: string;
}

async function replicas(k: Kube, deployment: string): Promise<number | null> {
  const r = await kubectl(k, ["get", `deployment/${deployment}`, "-o", "jsonpath={.spec.replicas}"]);
  if (!r.ok) {
    warn(k, "provisioners", `cannot read deployment/${deployment}: ${r.reason}`);
    return null;
  }
  const n = Number(r.stdout.trim());
  return Number.isInteger(n) && n >= 0 ? n : null;
}

async function scale(k: Kube, deployment: string, n: number): Promise<boolean> {
  const r = await kubectl(k, ["scale", `deployment/${deployment}`, `--replicas=${n}`]);
  if (!r.ok) warn(k, "provisioners", `cannot scale deployment/${deployment} to ${n}: ${r.reason}`);
  return r.ok;
}

/** Waits (bounded) until the rollout reports done; a warning, not an error, when it does not. */
async function rolledOut(k: Kube, deployment: string, timeoutMs: number): Promise<boolean> {
  const tries = Math.max(1, Math.ceil(timeoutMs / 2000));
  try {
    await retry(tries, 2000, async () => {
      const r = await kubectl(k, ["rollout", "status", `deployment/${deployment}`, "--watch=false"]);
      if (!r.ok || !/successfully rolled out/.test(r.stdout)) throw new Error(r.ok ? r.stdout.trim() : r.reason);
    });
    return true;
  } catch (e) {
    warn(k, "provisioners", `deployment/${deployment} did not finish rolling out: ${(e as Error).message}`);
    return false;
  }
}

/**
 * Scales `deployment` to `to` replicas (Coder: the create concurrency, 10 when unlimited) and records the count
 * it had. An existing unrestored record is kept (its count is the original one).
 */
export async function scaleUp(k: Kube, deployment: string, to: number, rolloutTimeoutMs = 600_000): Promise<ProvisionerRecord | null> {
  const file = join(k.runDir, RECORD);
  let record: ProvisionerRecord | null = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as ProvisionerRecord) : null;
  if (!record) {
    const before = await replicas(k, deployment);
    if (before === null) return null;
    record = { deployment, namespace: k.namespace, previousReplicas: before, scaledTo: to, at: new Date().toISOString() };
    mkdirSync(join(k.runDir, "state"), { recursive: true });
    // Recorded before scaling: a crash between the two still restores the original count.
    writeFileAtomicSync(file, `${JSON.stringify(record, null, 2)}\n`);
  }
  if (!(await scale(k, deployment, to))) return record;
  await rolledOut(k, deployment, rolloutTimeoutMs);
  return record;
}

/** Puts the recorded replica count back; idempotent (a restored record is renamed). */
export async function restore(k: Kube): Promise<"restored" | "nothing" | "failed"> {
  const file = join(k.runDir, RECORD);
  if (!existsSync(file)) return "nothing";
  let record: ProvisionerRecord;
  try {
    record = JSON.parse(readFileSync(file, "utf8")) as ProvisionerRecord;
  } catch (e) {
    warn(k, "provisioners", `unreadable ${file}: ${(e as Error).message}`);
    return "failed";
  }
  const kk = { ...k, namespace: record.namespace };
  if (!(await scale(kk, record.deployment, record.previousReplicas))) return "failed";
  renameSync(file, join(k.runDir, RESTORED));
  return "restored";
}

/** Restores every run under `resultsDir` left scaled (a crashed run), for cleanup and the next start. */
export async function restoreAll(k: Omit<Kube, "runDir">, resultsDir: string): Promise<string[]> {
  const done: string[] = [];
  if (!existsSync(resultsDir)) return done;
  for (const name of readdirSync(resultsDir)) {
    const runDir = join(resultsDir, name);
    if (!existsSync(join(runDir, RECORD))) continue;
    if ((await restore({ ...k, runDir })) === "restored") done.push(name);
  }
  return done;
}

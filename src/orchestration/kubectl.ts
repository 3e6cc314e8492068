// kubectl through zx for the orchestration around a test (pprof, log gathering, provisioner scaling). Every
// call fails soft: a missing kubectl, a missing permission or an unreachable cluster becomes a warning in the
// run folder (orchestration-warnings.txt) and on stderr, never an exception that stops the run.
import { mkdirSync } from "node:fs";
import { appendNoFollow } from "../util/nofollow.ts";
import { join } from "node:path";
import { $, within } from "zx";
import { envWithoutSecrets, redact } from "../util/redact.ts";

export interface Kube {
  /** The kubectl binary (SCALETEST_KUBECTL, else kubectl on PATH). */
  kubectl: string;
  /** Namespace of coderd and the provisioners (SCALETEST_CODER_NAMESPACE, else SCALETEST_NAMESPACE). */
  namespace: string;
  /** Where warnings are recorded: `<results>/<run>/`. */
  runDir: string;
}

export function kubeFromEnv(runDir: string, env: NodeJS.ProcessEnv = process.env): Kube {
  return {
    kubectl: env.SCALETEST_KUBECTL || "kubectl",
    namespace: env.SCALETEST_CODER_NAMESPACE || env.SCALETEST_NAMESPACE || "coder",
    runDir,
  };
}

export const WARNINGS_FILE = "orchestration-warnings.txt";

/** Records a warning in the run folder and prints it; never throws. */
export function warn(k: Kube, what: string, message: string): void {
  const line = `${new Date().toISOString()} ${what}: ${redact(message).slice(0, 2000)}`;
  process.stderr.write(`warning: ${line}\n`);
  try {
    mkdirSync(k.runDir, { recursive: true });
    appendNoFollow(join(k.runDir, WARNINGS_FILE), `${line}\n`);
  } catch {
    // the warning was printed; the folder is not writable
  }
}

export type KubectlResult = { ok: true; stdout: string } | { ok: false; reason: string };

/** Why a kubectl call failed, in words a user can act on. */
export function failureReason(stderr: string, code: number | null, spawnError?: string): string {
  // zx runs through a shell: a missing binary is exit 127 ("No such file", "command not found").
  if ((spawnError && /ENOENT/.test(spawnError)) || code === 127) return "kubectl is not installed (or not on PATH)";
  if (/forbidden/i.test(stderr)) return `permission missing (see the template README, "Before you push"): ${stderr.trim().split("\n")[0]}`;
  return `kubectl exited ${code ?? "?"}: ${stderr.trim().split("\n").slice(-3).join(" ")}`;
}

/** Runs kubectl quietly in the namespace; stdout is capped by `maxBytes` (kubectl's own flags bound the rest). */
export async function kubectl(k: Kube, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<KubectlResult> {
  return within(async () => {
    $.verbose = false;
    $.quiet = true;
    try {
      // kubectl needs no secret of ours: its own kubeconfig/service account authenticates it.
      const p = $({ nothrow: true, env: envWithoutSecrets(), ...(opts.input === undefined ? {} : { input: opts.input }), ...(opts.timeoutMs ? { timeout: opts.timeoutMs } : {}) })`${k.kubectl} -n ${k.namespace} ${args}`;
      const out = await p;
      if (out.exitCode === 0) return { ok: true, stdout: out.stdout };
      return { ok: false, reason: failureReason(out.stderr, out.exitCode, out.message) };
    } catch (e) {
      return { ok: false, reason: failureReason("", null, (e as Error).message) };
    }
  });
}

export interface PodInfo {
  name: string;
  labels: Record<string, string>;
  phase: string;
  startTime?: string;
}

/** Pods in the namespace (optionally by label selector), or null after a warning. */
export async function listPods(k: Kube, what: string, selector?: string): Promise<PodInfo[] | null> {
  const r = await kubectl(k, ["get", "pods", ...(selector ? ["-l", selector] : []), "-o", "json"]);
  if (!r.ok) {
    warn(k, what, r.reason);
    return null;
  }
  try {
    const list = JSON.parse(r.stdout) as { items?: { metadata?: { name?: string; labels?: Record<string, string> }; status?: { phase?: string; startTime?: string } }[] };
    return (list.items ?? []).map((p) => ({
      name: p.metadata?.name ?? "",
      labels: p.metadata?.labels ?? {},
      phase: p.status?.phase ?? "",
      ...(p.status?.startTime ? { startTime: p.status.startTime } : {}),
    }));
  } catch (e) {
    warn(k, what, `kubectl get pods printed no JSON list: ${(e as Error).message}`);
    return null;
  }
}

/** A name safe as a file or folder name (pod names already are; this guards against anything else). */
export function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "_").slice(0, 200) || "_";
}

// Gathers the logs of coderd, the external provisioners and the run's scaletest- pods since the run started
// into <run>/logs/<pod>.txt (Coder's gather_logs). Fails soft; each pod's log is capped by kubectl itself.
import { mkdirSync } from "node:fs";
import { writeFileAtomicSync } from "../results/atomic.ts";
import { join } from "node:path";
import { retry } from "zx";
import { kubectl, listPods, safeName, warn, type Kube, type PodInfo } from "./kubectl.ts";

/** Bytes of log kept per pod (kubectl --limit-bytes). */
export const LOG_LIMIT_BYTES = 64 * 1024 * 1024;

/** coderd (app.kubernetes.io/name=coder), provisioners (coder-provisioner) and pods named scaletest-*. */
export function selectLogPods(pods: readonly PodInfo[]): PodInfo[] {
  return pods.filter((p) => {
    const app = p.labels["app.kubernetes.io/name"];
    return app === "coder" || app === "coder-provisioner" || p.name.startsWith("scaletest-");
  });
}

export interface GatherResult {
  gathered: string[];
  failed: string[];
}

export async function gatherLogs(k: Kube, sinceTime: string, limitBytes = LOG_LIMIT_BYTES): Promise<GatherResult> {
  const out: GatherResult = { gathered: [], failed: [] };
  const pods = await listPods(k, "logs");
  if (!pods) return out;
  const dir = join(k.runDir, "logs");
  mkdirSync(dir, { recursive: true });
  for (const pod of selectLogPods(pods)) {
    try {
      const text = await retry(2, 1000, async () => {
        const r = await kubectl(k, ["logs", `pod/${pod.name}`, "--all-containers=true", "--timestamps=true", `--since-time=${sinceTime}`, `--limit-bytes=${limitBytes}`]);
        if (!r.ok) throw new Error(r.reason);
        return r.stdout;
      });
      writeFileAtomicSync(join(dir, `${safeName(pod.name)}.txt`), text);
      out.gathered.push(pod.name);
    } catch (e) {
      warn(k, "logs", `pod/${pod.name}: ${(e as Error).message}`);
      out.failed.push(pod.name);
    }
  }
  return out;
}

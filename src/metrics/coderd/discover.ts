// coderd's replicas found from the Kubernetes API, as the runner pod sees them: the running pods that match
// --coderd-metrics-discover (a label selector, e.g. app.kubernetes.io/name=coder) in --coderd-namespace,
// each scraped at http://<pod IP>:<--coderd-metrics-port>/metrics. Needs "list pods" in that namespace.
import * as k8s from "@kubernetes/client-node";
import { inClusterConfig } from "../../scaleout/kubernetes.ts";

export interface DiscoverOptions {
  namespace: string;
  labelSelector: string;
  port: number;
  /** Default: the pod's in-cluster service account. */
  kubeConfig?: k8s.KubeConfig;
}

/** One metrics URL per running, addressed pod, sorted; throws when the API cannot be read. */
export async function discoverCoderdMetricsUrls(o: DiscoverOptions): Promise<string[]> {
  const core = (o.kubeConfig ?? inClusterConfig()).makeApiClient(k8s.CoreV1Api);
  let pods: k8s.V1Pod[];
  try {
    pods = (await core.listNamespacedPod({ namespace: o.namespace, labelSelector: o.labelSelector })).items;
  } catch (e) {
    throw new Error(`listing pods ${o.labelSelector} in namespace ${o.namespace} failed (${(e as Error).message.split("\n")[0]}): the runner needs "list pods" there, or give --coderd-metrics-url per replica`);
  }
  const urls = pods
    .filter((p) => p.status?.phase === "Running" && p.status.podIP && !p.metadata?.deletionTimestamp)
    .map((p) => {
      const ip = p.status!.podIP!;
      return `http://${ip.includes(":") ? `[${ip}]` : ip}:${o.port}/metrics`;
    });
  return [...new Set(urls)].sort();
}

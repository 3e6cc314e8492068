// --coderd-metrics-discover: coderd's replicas from the Kubernetes API (the runner pod's view), against the
// loopback fake Kubernetes API: running, addressed pods matching the label selector become metrics URLs.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { discoverCoderdMetricsUrls } from "../src/metrics/coderd/discover.ts";
import { startFakeKube, type FakeKube } from "./helpers/scaleout.ts";

let kube: FakeKube;
before(async () => {
  kube = await startFakeKube({ podLog: () => "" });
  const pod = (name: string, ns: string, labels: Record<string, string>, status: Record<string, unknown>) =>
    kube.pods.set(name, { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: ns, labels }, status });
  pod("coder-a", "coder", { "app.kubernetes.io/name": "coder" }, { phase: "Running", podIP: "10.1.0.7" });
  pod("coder-b", "coder", { "app.kubernetes.io/name": "coder" }, { phase: "Running", podIP: "fd00::5" });
  pod("coder-pending", "coder", { "app.kubernetes.io/name": "coder" }, { phase: "Pending" });
  pod("provisioner", "coder", { "app.kubernetes.io/name": "coder-provisioner" }, { phase: "Running", podIP: "10.1.0.9" });
  pod("coder-elsewhere", "other", { "app.kubernetes.io/name": "coder" }, { phase: "Running", podIP: "10.2.0.1" });
});
after(async () => kube?.close());

test("running coder pods of the namespace and selector become one metrics URL each", async () => {
  const urls = await discoverCoderdMetricsUrls({ namespace: "coder", labelSelector: "app.kubernetes.io/name=coder", port: 2112, kubeConfig: kube.kubeConfig });
  assert.deepEqual(urls, ["http://10.1.0.7:2112/metrics", "http://[fd00::5]:2112/metrics"]);
  const asked = kube.requests.filter((r) => r.path.includes("/pods"));
  assert.ok(asked.length >= 1 && asked.every((r) => r.method === "GET"), "only reads pods");
});

test("an API that cannot be reached gives an error saying what the runner needs", async () => {
  const dead = await startFakeKube({ podLog: () => "" });
  await dead.close();
  await assert.rejects(
    discoverCoderdMetricsUrls({ namespace: "coder", labelSelector: "app.kubernetes.io/name=coder", port: 2112, kubeConfig: dead.kubeConfig }),
    /listing pods app\.kubernetes\.io\/name=coder in namespace coder failed .*"list pods"/,
  );
});

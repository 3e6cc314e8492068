# Scale-out (runners > 1): the runner starts one Kubernetes Indexed Job per traffic phase in its namespace
# (src/scaleout/). Its service account needs to manage those Jobs and their Secrets (the session token for the
# shard pods) and to read the shard pods and their logs (results come back through the log when there is no
# ReadWriteMany volume). Cleanup deletes a run's Jobs and Secrets by the label scaletest.coder.com/run-id.
resource "kubernetes_role" "scaleout" {
  count = data.coder_workspace.me.start_count
  metadata {
    name      = "${local.pod_name}-scaleout"
    namespace = data.coder_parameter.namespace.value
    labels    = local.labels
  }
  rule {
    api_groups = ["batch"]
    resources  = ["jobs"]
    verbs      = ["create", "get", "list", "watch", "delete", "deletecollection"]
  }
  rule {
    api_groups = [""]
    resources  = ["secrets"]
    verbs      = ["create", "get", "list", "delete"]
  }
  rule {
    api_groups = [""]
    resources  = ["pods", "pods/log"]
    verbs      = ["get", "list", "watch"]
  }
}

resource "kubernetes_role_binding" "scaleout" {
  count = data.coder_workspace.me.start_count
  metadata {
    name      = "${local.pod_name}-scaleout"
    namespace = data.coder_parameter.namespace.value
    labels    = local.labels
  }
  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "Role"
    name      = kubernetes_role.scaleout[0].metadata[0].name
  }
  subject {
    kind      = "ServiceAccount"
    name      = var.service_account_name
    namespace = data.coder_parameter.namespace.value
  }
}

# Shard pods serve the same metrics (with a `shard` label) on their "metrics" port.
resource "kubernetes_manifest" "shard_pod_monitor" {
  count = var.pod_monitor ? data.coder_workspace.me.start_count : 0
  manifest = {
    apiVersion = "monitoring.coreos.com/v1"
    kind       = "PodMonitor"
    metadata = {
      name      = "podmonitor-${local.pod_name}-shards"
      namespace = data.coder_parameter.namespace.value
      labels    = merge(var.pod_monitor_labels, { "app.kubernetes.io/part-of" = "coder" })
    }
    spec = {
      selector = {
        matchLabels = {
          "app.kubernetes.io/name" = "coder-scaletest-shard"
        }
      }
      podMetricsEndpoints = [
        {
          port     = "metrics"
          interval = "15s"
        }
      ]
    }
  }
}

# Orchestration around the test (scripts/pprof.ts, scripts/gather-logs.ts, scripts/scale-provisioners.ts): find
# coderd and provisioner pods, port-forward to coderd's pprof port, read their logs since the run started, and
# scale the external provisioner deployment. Exactly the calls their kubectl makes (test/orchestration.test.ts
# records them against a fake API); each script warns and goes on without them.
resource "kubernetes_role" "orchestration" {
  count = data.coder_workspace.me.start_count
  metadata {
    name      = "${local.pod_name}-orchestration"
    namespace = local.coder_namespace
    labels    = local.labels
  }
  rule {
    api_groups = [""]
    resources  = ["pods"]
    verbs      = ["get", "list"]
  }
  rule {
    api_groups = [""]
    resources  = ["pods/log"]
    verbs      = ["get"]
  }
  rule {
    api_groups = [""]
    resources  = ["pods/portforward"]
    verbs      = ["create"]
  }
  rule {
    api_groups = ["apps"]
    resources  = ["deployments"]
    verbs      = ["get", "list", "watch"]
  }
  rule {
    api_groups = ["apps"]
    resources  = ["deployments/scale"]
    verbs      = ["patch"]
  }
}

resource "kubernetes_role_binding" "orchestration" {
  count = data.coder_workspace.me.start_count
  metadata {
    name      = "${local.pod_name}-orchestration"
    namespace = local.coder_namespace
    labels    = local.labels
  }
  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "Role"
    name      = kubernetes_role.orchestration[0].metadata[0].name
  }
  subject {
    kind      = "ServiceAccount"
    name      = var.service_account_name
    namespace = data.coder_parameter.namespace.value
  }
}

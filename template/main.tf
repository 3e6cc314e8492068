# The scale-test runner template: one workspace (owner "scaletest", name "runner" by default) whose start
# runs the staged pipeline (scripts/run.ts) against this Coder deployment. Every pipeline setting is a
# parameter: see parameters.tf (generated from the settings schema) and README.md.

terraform {
  required_providers {
    # form_type (multi-select scenario list) needs >= 2.4.0; the lock file (.terraform.lock.hcl) pins 2.13.1; a
    # major release may break the schema.
    coder = {
      source  = "coder/coder"
      version = ">= 2.13.1, < 3.0.0"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.38.0" # the locked version's patch releases only
    }
    time = {
      source  = "hashicorp/time"
      version = "~> 0.13.1"
    }
  }
}

provider "kubernetes" {
  # In-cluster (the provisioner's service account) unless a kubeconfig path is given.
  config_path = var.kubeconfig_path == "" ? null : var.kubeconfig_path
}

# ---------------------------------------------------------------------------------------------------------
# Template variables: set when pushing (coder templates push --variable name=value). Secrets live here, never
# in parameters, so they are not shown in the UI nor stored with builds.
# ---------------------------------------------------------------------------------------------------------

variable "allowed_workspaces" {
  type        = list(string)
  default     = ["scaletest/runner"]
  description = "owner/workspace names allowed to build this template (a scale test is not something to start by accident). [\"*\"] allows any."
}

variable "runner_image" {
  type        = string
  default     = "ghcr.io/coder-scaletest/scaletest-runner:latest"
  description = "The runner image built from template/Dockerfile (pin a tag per release)."
}

variable "image_pull_policy" {
  type    = string
  default = "IfNotPresent"
}

variable "service_account_name" {
  type        = string
  default     = "scaletest-runner"
  description = "Service account of the runner pod (needs rights to create Jobs in the namespace only for runners > 1)."
}

variable "cpu" {
  type        = number
  default     = 8
  description = "CPU cores the runner pod may use (limit)."
}

variable "memory_gib" {
  type        = number
  default     = 16
  description = "Memory limit of the runner pod, GiB."
}

variable "home_disk_gib" {
  type        = number
  default     = 10
  description = "Size of the persistent home volume (results, the project copy), GiB."
}

variable "shutdown_grace_minutes" {
  type        = number
  default     = 300
  description = "How long a stop may take: the shutdown script's cleanup (strategy on_stop) must finish within it. Keep above the cleanup timeout parameter."
}

variable "grafana_dashboard_uid" {
  type        = string
  default     = "scaletest-runner"
  description = "UID of the dashboard from dashboards/scaletest-runner.json in your Grafana."
}

variable "grafana_api_token" {
  type        = string
  default     = ""
  sensitive   = true
  description = "Grafana service-account token for phase annotations (optional)."
}

variable "slack_webhook_url" {
  type        = string
  default     = ""
  sensitive   = true
  description = "Slack-compatible webhook told when a run starts, completes or fails (optional)."
}

variable "pod_monitor" {
  type        = bool
  default     = true
  description = "Create a PodMonitor (needs the Prometheus Operator CRDs in the cluster)."
}

variable "pod_monitor_labels" {
  type        = map(string)
  default     = { release = "prometheus" }
  description = "Labels on the PodMonitors, so your Prometheus' podMonitorSelector picks them up (kube-prometheus-stack selects `release: <its Helm release name>` by default)."
}

variable "coder_namespace" {
  type        = string
  default     = ""
  description = "Namespace of coderd and the external provisioners (pprof, log gathering, provisioner scaling); empty = the runner's namespace."
}

variable "provisioner_deployment" {
  type        = string
  default     = "coder-provisioner"
  description = "The external provisioner deployment scaled to the create concurrency during a run (empty: never scaled)."
}

variable "workspace_templates" {
  type        = list(string)
  default     = ["kubernetes-minimal", "kubernetes-small", "kubernetes-medium", "kubernetes-medium-greedy", "kubernetes-large"]
  description = "Templates of this deployment offered for the test workspaces and the greedy agent (parameter options; must include the parameters' defaults kubernetes-minimal and kubernetes-medium-greedy). [] = free text."
}

variable "kubeconfig_path" {
  type        = string
  default     = ""
  description = "Path to a kubeconfig on the provisioner; empty = in-cluster config."
}

# ---------------------------------------------------------------------------------------------------------

data "coder_provisioner" "me" {}
data "coder_workspace" "me" {}
data "coder_workspace_owner" "me" {}

locals {
  owner_workspace = "${data.coder_workspace_owner.me.name}/${data.coder_workspace.me.name}"
  # "default/default" is what Coder plans with when a template version is imported; `coder create <owner>/runner`
  # first runs a dry run without an owner, which the provider reports as "default", so "default/<name>" passes
  # for every allowed name (a real build always has its real owner).
  allowed_names = [for w in var.allowed_workspaces : "default/${element(split("/", w), length(split("/", w)) - 1)}"]
  allowed       = contains(var.allowed_workspaces, "*") || contains(concat(var.allowed_workspaces, local.allowed_names, ["default/default"]), local.owner_workspace)

  name_suffix   = "${lower(data.coder_workspace_owner.me.name)}-${lower(data.coder_workspace.me.name)}"
  pod_name      = "coder-scaletest-runner-${local.name_suffix}"
  pod_instance  = "coder-workspace-${local.name_suffix}"
  home          = "/home/coder"
  project_dir   = "${local.home}/scaletest-runner"
  results_dir   = "${local.home}/results"
  metrics_port  = 21112
  grace_seconds = var.shutdown_grace_minutes * 60

  # Shipped with the template version when `npm run template:bundle` was run before pushing (see README).
  bundled = fileexists("${path.module}/runner.tar.gz")

  coder_namespace = var.coder_namespace == "" ? data.coder_parameter.namespace.value : var.coder_namespace
}

# Refuses to build for any workspace but the intended runner (as Coder's scaletest-runner does).
resource "terraform_data" "runner_check" {
  count = data.coder_workspace.me.start_count
  lifecycle {
    precondition {
      condition     = local.allowed
      error_message = "This template only builds the scale-test runner workspace(s) ${join(", ", var.allowed_workspaces)}; got ${local.owner_workspace}. Create it as that owner/name, or push with --variable allowed_workspaces='[\"${local.owner_workspace}\"]'."
    }
  }
}

# The start time of this build: the Grafana link's time range starts here. timestamp() is unknown at plan time,
# so every build (a restart or an update included) replaces it with the build's own time.
resource "time_static" "start_time" {
  triggers = {
    build = timestamp()
  }
}

# The project at the version this template was pushed with (src/, scripts/, scenarios/, package files, as the
# gzipped tarball runner.tar.gz), when bundled; otherwise the copy inside the runner image is used.
resource "kubernetes_config_map" "project" {
  count = local.bundled ? data.coder_workspace.me.start_count : 0
  metadata {
    name      = "${local.pod_name}-project"
    namespace = data.coder_parameter.namespace.value
    labels = {
      "app.kubernetes.io/part-of" = "coder"
      "com.coder.resource"        = "true"
      "com.coder.workspace.id"    = data.coder_workspace.me.id
    }
  }
  binary_data = {
    "project.tar.gz" = filebase64("${path.module}/runner.tar.gz")
  }
}

# Settings without a parameter (README: "Settings without a parameter") and the scripts' own variables.
locals {
  fixed_env = {
    CODER_URL                 = data.coder_workspace.me.access_url
    CODER_OWNER_SESSION_TOKEN = data.coder_workspace_owner.me.session_token
    SCALETEST_RESULTS_DIR     = local.results_dir
    SCALETEST_METRICS_ADDRESS = "0.0.0.0:${local.metrics_port}"
    SCALETEST_RUNNER_IMAGE    = var.runner_image
    # Where the scripts live in the workspace, and where their bundle is mounted / baked in.
    SCALETEST_PROJECT_DIR = local.project_dir
    SCALETEST_BUNDLE      = local.bundled ? "/opt/scaletest-bundle/project.tar.gz" : ""
    SCALETEST_IMAGE_DIR   = "/opt/scaletest-runner"
    SCALETEST_START_TIME  = time_static.start_time.rfc3339
    # The webhook's Grafana link (src/pipeline/webhook.ts) opens this dashboard over the run's time range.
    SCALETEST_GRAFANA_DASHBOARD_UID = var.grafana_dashboard_uid
    CODER_CONFIG_DIR                = "${local.home}/.config/coderv2"
    CODER_WORKSPACE_OWNER           = data.coder_workspace_owner.me.name
    CODER_WORKSPACE                 = data.coder_workspace.me.name
    # The orchestration scripts (scripts/pprof.ts, gather-logs.ts, scale-provisioners.ts).
    SCALETEST_CODER_NAMESPACE        = local.coder_namespace
    SCALETEST_PROVISIONER_DEPLOYMENT = var.provisioner_deployment
  }
}

locals {
  # metadata_host.sh as a shell function `host`, so each metadata entry is one self-contained script.
  host_metadata = "host() {\n${file("${path.module}/metadata_host.sh")}\n}"
}

resource "coder_agent" "main" {
  arch = data.coder_provisioner.me.arch
  os   = "linux"
  dir  = local.results_dir

  # Every parameter (parameters.tf) plus the settings the template fixes itself.
  env = merge(local.parameter_env, local.fixed_env)

  display_apps {
    vscode          = false
    vscode_insiders = false
    ssh_helper      = true
    web_terminal    = true
  }

  metadata {
    display_name = "Scaletest status"
    key          = "00_scaletest_status"
    script       = file("${path.module}/metadata_status.sh")
    interval     = 1
    timeout      = 1
  }
  metadata {
    display_name = "Scaletest phase"
    key          = "01_scaletest_phase"
    script       = file("${path.module}/metadata_phase.sh")
    interval     = 1
    timeout      = 1
  }
  metadata {
    display_name = "Scaletest phase (previous)"
    key          = "02_scaletest_previous_phase"
    script       = file("${path.module}/metadata_previous_phase.sh")
    interval     = 1
    timeout      = 1
  }
  metadata {
    display_name = "CPU usage"
    key          = "10_cpu_usage"
    script       = "coder stat cpu"
    interval     = 10
    timeout      = 2
  }
  metadata {
    display_name = "Memory usage"
    key          = "11_ram_usage"
    script       = "coder stat mem"
    interval     = 10
    timeout      = 2
  }
  # The node's CPU, memory and load (as Coder's runner shows them), from /proc by metadata_host.sh.
  metadata {
    display_name = "CPU usage (host)"
    key          = "20_cpu_usage_host"
    script       = "${local.host_metadata}\nhost cpu"
    interval     = 10
    timeout      = 2
  }
  metadata {
    display_name = "Memory usage (host)"
    key          = "21_mem_usage_host"
    script       = "${local.host_metadata}\nhost mem"
    interval     = 10
    timeout      = 2
  }
  metadata {
    display_name = "Load average (host)"
    key          = "22_load_host"
    script       = "${local.host_metadata}\nhost load"
    interval     = 10
    timeout      = 2
  }
  metadata {
    display_name = "Home disk"
    key          = "12_home_disk"
    script       = "coder stat disk --path ${local.home}"
    interval     = 60
    timeout      = 2
  }
}

# The startup script prepares the workspace (project copy, CLI login, results server) and starts the pipeline
# detached, so it keeps running when terminals close; its output goes to the results dir.
resource "coder_script" "startup" {
  agent_id           = coder_agent.main.id
  display_name       = "Start the scale test"
  icon               = "/emojis/1f680.png"
  script             = file("${path.module}/startup.sh")
  run_on_start       = true
  start_blocks_login = false
  timeout            = 1800
}

# The shutdown script stops a running pipeline (it writes its results) and, for cleanup strategy on_stop,
# deletes what the run created. It may take up to the pod's grace period.
resource "coder_script" "shutdown" {
  agent_id     = coder_agent.main.id
  display_name = "Stop and clean up"
  icon         = "/emojis/1f9f9.png"
  script       = file("${path.module}/shutdown.sh")
  run_on_stop  = true
  timeout      = local.grace_seconds
}

# --- Apps -------------------------------------------------------------------------------------------------

# The latest run's report.html (and every run's files), served by startup.sh on loopback inside the pod. A
# path-proxied app appends the request's path to the URL's, so the URL is the server's root (which redirects to
# latest/report.html): /<run-id>/ and every file in it stay reachable through the same app.
resource "coder_app" "report" {
  agent_id     = coder_agent.main.id
  slug         = "report"
  display_name = "Latest report"
  icon         = "/emojis/1f4ca.png"
  url          = "http://localhost:21180/"
  subdomain    = false
  share        = "owner"
  order        = 1
}

resource "coder_app" "live_report" {
  agent_id     = coder_agent.main.id
  slug         = "live-report"
  display_name = "Live report"
  icon         = "/emojis/1f4fa.png"
  url          = "http://localhost:21113/"
  subdomain    = false
  share        = "owner"
  order        = 2
}

resource "coder_app" "grafana" {
  count        = data.coder_parameter.grafana_url.value == "" ? 0 : 1
  agent_id     = coder_agent.main.id
  slug         = "grafana"
  display_name = "Grafana"
  icon         = "/emojis/1f4c8.png"
  external     = true
  url          = "${trimsuffix(data.coder_parameter.grafana_url.value, "/")}/d/${var.grafana_dashboard_uid}/scaletest-runner?orgId=1&from=${time_static.start_time.unix * 1000}&to=now"
  order        = 3
}

resource "coder_app" "manual_cleanup" {
  agent_id     = coder_agent.main.id
  slug         = "manual-cleanup"
  display_name = "Manual cleanup"
  icon         = "/emojis/1f9f9.png"
  command      = "bash ${local.home}/.scaletest/manual-cleanup.sh"
  order        = 4
}

# --- Kubernetes -------------------------------------------------------------------------------------------

locals {
  labels = {
    "app.kubernetes.io/name"     = "coder-scaletest-runner"
    "app.kubernetes.io/instance" = local.pod_instance
    "app.kubernetes.io/part-of"  = "coder"
    "com.coder.resource"         = "true"
    "com.coder.workspace.id"     = data.coder_workspace.me.id
    "com.coder.workspace.name"   = data.coder_workspace.me.name
    "com.coder.user.id"          = data.coder_workspace_owner.me.id
    "com.coder.user.username"    = data.coder_workspace_owner.me.name
  }
}

# Home (results, the project copy, the CLI's config) survives restarts and stops.
resource "kubernetes_persistent_volume_claim" "home" {
  depends_on = [terraform_data.runner_check]
  metadata {
    name      = "${local.pod_name}-home"
    namespace = data.coder_parameter.namespace.value
    labels    = merge(local.labels, { "app.kubernetes.io/name" = "coder-scaletest-runner-home" })
    annotations = {
      "com.coder.user.email" = data.coder_workspace_owner.me.email
    }
  }
  wait_until_bound = false
  spec {
    access_modes = ["ReadWriteOnce"]
    resources {
      requests = {
        storage = "${var.home_disk_gib}Gi"
      }
    }
  }
  lifecycle {
    ignore_changes = all
  }
}

locals {
  # Container env var -> key in the integrations Secret.
  secret_env = {
    GRAFANA_API_TOKEN = "grafana-api-token"
    SLACK_WEBHOOK_URL = "slack-webhook-url"
  }
}

# The template's secret variables, for the runner only (never parameters, never in the agent's manifest).
resource "kubernetes_secret" "integrations" {
  count = data.coder_workspace.me.start_count
  metadata {
    name      = "${local.pod_name}-integrations"
    namespace = data.coder_parameter.namespace.value
    labels    = local.labels
  }
  data = {
    "grafana-api-token" = var.grafana_api_token
    "slack-webhook-url" = var.slack_webhook_url
  }
}

resource "kubernetes_pod" "main" {
  count = data.coder_workspace.me.start_count
  # The RBAC the pod's scripts use and the PodMonitors are created before it and, on stop, deleted only after it
  # (Terraform destroys in reverse dependency order): the shutdown script's cleanup still has its permissions.
  depends_on = [
    terraform_data.runner_check,
    terraform_data.parameter_bounds,
    kubernetes_role.scaleout,
    kubernetes_role_binding.scaleout,
    kubernetes_role.orchestration,
    kubernetes_role_binding.orchestration,
    kubernetes_manifest.pod_monitor,
    kubernetes_manifest.shard_pod_monitor,
  ]
  metadata {
    name      = local.pod_name
    namespace = data.coder_parameter.namespace.value
    labels    = local.labels
    annotations = {
      "com.coder.user.email" = data.coder_workspace_owner.me.email
    }
  }
  # Deleting the pod waits for the shutdown script (cleanup) plus a margin.
  timeouts {
    delete = "${local.grace_seconds + 180}s"
  }
  spec {
    service_account_name = var.service_account_name
    # The agent's shutdown script (cleanup for strategy on_stop) runs within this grace period.
    termination_grace_period_seconds = local.grace_seconds + 60
    security_context {
      run_as_user = 1000
      fs_group    = 1000
    }
    container {
      name              = "runner"
      image             = var.runner_image
      image_pull_policy = var.image_pull_policy
      command           = ["sh", "-c", coder_agent.main.init_script]
      env {
        name  = "CODER_AGENT_TOKEN"
        value = coder_agent.main.token
      }
      env {
        name  = "CODER_AGENT_LOG_DIR"
        value = "${local.results_dir}/logs"
      }
      # Secrets reach the agent (and so the pipeline) through the container's environment, from a Secret.
      dynamic "env" {
        for_each = local.secret_env
        content {
          name = env.key
          value_from {
            secret_key_ref {
              name = kubernetes_secret.integrations[0].metadata[0].name
              key  = env.value
            }
          }
        }
      }
      port {
        name           = "metrics"
        container_port = local.metrics_port
        protocol       = "TCP"
      }
      resources {
        requests = {
          cpu    = "500m"
          memory = "1Gi"
        }
        limits = {
          cpu    = tostring(var.cpu)
          memory = "${var.memory_gib}Gi"
        }
      }
      volume_mount {
        name       = "home"
        mount_path = local.home
      }
      dynamic "volume_mount" {
        for_each = local.bundled ? [1] : []
        content {
          name       = "project"
          mount_path = "/opt/scaletest-bundle"
          read_only  = true
        }
      }
    }
    volume {
      name = "home"
      persistent_volume_claim {
        claim_name = kubernetes_persistent_volume_claim.home.metadata[0].name
      }
    }
    dynamic "volume" {
      for_each = local.bundled ? [1] : []
      content {
        name = "project"
        config_map {
          name = kubernetes_config_map.project[0].metadata[0].name
        }
      }
    }
    affinity {
      # Keep the runner off the nodes that run the workspaces it loads, where possible.
      pod_anti_affinity {
        preferred_during_scheduling_ignored_during_execution {
          weight = 1
          pod_affinity_term {
            topology_key = "kubernetes.io/hostname"
            label_selector {
              match_expressions {
                key      = "app.kubernetes.io/name"
                operator = "In"
                values   = ["coder-workspace"]
              }
            }
          }
        }
      }
    }
  }
}

# Prometheus Operator scrapes the runner's metrics endpoint (one endpoint serves every scenario of a run).
resource "kubernetes_manifest" "pod_monitor" {
  count = var.pod_monitor ? data.coder_workspace.me.start_count : 0
  manifest = {
    apiVersion = "monitoring.coreos.com/v1"
    kind       = "PodMonitor"
    metadata = {
      name      = "podmonitor-${local.pod_name}"
      namespace = data.coder_parameter.namespace.value
      labels    = merge(var.pod_monitor_labels, { "app.kubernetes.io/part-of" = "coder" })
    }
    spec = {
      selector = {
        matchLabels = {
          "app.kubernetes.io/instance" = local.pod_instance
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

resource "coder_metadata" "pod" {
  count       = data.coder_workspace.me.start_count
  resource_id = kubernetes_pod.main[0].id
  item {
    key   = "image"
    value = var.runner_image
  }
  item {
    key   = "scripts"
    value = local.bundled ? "bundled with this template version" : "from the image"
  }
  item {
    key   = "results"
    value = local.results_dir
  }
}

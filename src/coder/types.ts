// Types for the codersdk objects the scale-test runner uses, hand-written from Coder's swagger
// (the subset in test/contract/coder-api.json; snake_case JSON names kept).
//
// Optionality: the swagger file marks almost nothing `required`, but coderd always serialises the
// fields its Go structs declare without `omitempty`. Those are non-optional here; pointer/`omitempty`
// fields (timestamps that may be unset, errors, ...) are optional. Callers should still be defensive
// about arrays (`?? []`) because a proxy or an older coderd may leave them out.

/** RFC 3339 timestamp string. */
export type Timestamp = string;
/** UUID string. */
export type UUID = string;

// ---- enums -------------------------------------------------------------------------------------

export type LoginType = "" | "password" | "github" | "oidc" | "token" | "none";
export type UserStatus = "active" | "dormant" | "suspended";
export type WorkspaceStatus =
  | "pending" | "starting" | "running" | "stopping" | "stopped"
  | "failed" | "canceling" | "canceled" | "deleting" | "deleted";
export type WorkspaceTransition = "start" | "stop" | "delete";
export type ProvisionerJobStatus =
  | "pending" | "running" | "succeeded" | "canceling" | "canceled" | "failed" | "unknown";
export type ProvisionerJobType = "template_version_import" | "workspace_build" | "template_version_dry_run";
export type JobErrorCode = "REQUIRED_TEMPLATE_VARIABLES";
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";
export type LogSource = "provisioner_daemon" | "provisioner";
export type ProvisionerLogLevel = "debug";
export type BuildReason =
  | "initiator" | "autostart" | "autostop" | "dormancy" | "dashboard" | "cli"
  | "ssh_connection" | "vscode_connection" | "jetbrains_connection";
export type CreateWorkspaceBuildReason =
  | "dashboard" | "cli" | "ssh_connection" | "vscode_connection" | "jetbrains_connection";
export type AutomaticUpdates = "always" | "never";
export type WorkspaceAgentStatus = "connecting" | "connected" | "disconnected" | "timeout";
export type WorkspaceAgentLifecycle =
  | "created" | "starting" | "start_timeout" | "start_error" | "ready"
  | "shutting_down" | "shutdown_timeout" | "shutdown_error" | "off";
export type WorkspaceAgentStartupScriptBehavior = "blocking" | "non-blocking";
export type AgentSubsystem = "envbox" | "envbuilder" | "exectrace";
export type DisplayApp = "vscode" | "vscode_insiders" | "web_terminal" | "port_forwarding_helper" | "ssh_helper";
export type WorkspaceAppHealth = "disabled" | "initializing" | "healthy" | "unhealthy";
export type WorkspaceAppSharingLevel = "owner" | "authenticated" | "organization" | "public";
export type WorkspaceAppOpenIn = "slim-window" | "tab";
export type WorkspaceAppStatusState = "working" | "idle" | "complete" | "failure";
export type TemplateVersionWarning = "UNSUPPORTED_WORKSPACES";
export type TemplateVersionParameterType = "string" | "number" | "bool" | "list(string)";
export type TemplateVersionParameterFormType =
  | "" | "radio" | "dropdown" | "input" | "textarea" | "slider" | "checkbox" | "switch"
  | "tag-select" | "multi-select" | "error";
export type ValidationMonotonicOrder = "increasing" | "decreasing";
export type ServerSentEventType = "ping" | "data" | "error";
/** One of Coder's many API key scopes (`all`, `application_connect`, `workspace:read`, ...). */
export type APIKeyScope = string;
export type HealthSeverity = "ok" | "warning" | "error";

// ---- errors ------------------------------------------------------------------------------------

/** codersdk.ValidationError */
export interface ValidationError {
  field: string;
  detail: string;
}

/** codersdk.Response: the body of every Coder error (and of a few plain acknowledgements). */
export interface Response {
  message?: string;
  detail?: string;
  validations?: ValidationError[];
}

// ---- deployment --------------------------------------------------------------------------------

/** codersdk.BuildInfoResponse */
export interface BuildInfoResponse {
  agent_api_version?: string;
  dashboard_url: string;
  deployment_id: string;
  external_url: string;
  provisioner_api_version?: string;
  telemetry: boolean;
  upgrade_message?: string;
  version: string;
  webpush_public_key?: string;
  workspace_proxy: boolean;
}

/** codersdk.BannerConfig */
export interface BannerConfig {
  background_color?: string;
  enabled?: boolean;
  message?: string;
}

/** codersdk.LinkConfig */
export interface LinkConfig {
  icon?: "bug" | "chat" | "docs" | "star";
  location?: "navbar" | "dropdown";
  name?: string;
  target?: string;
}

/** codersdk.AppearanceConfig */
export interface AppearanceConfig {
  announcement_banners?: BannerConfig[];
  application_name?: string;
  docs_url?: string;
  logo_url?: string;
  /** @deprecated use announcement_banners */
  service_banner?: BannerConfig;
  support_links?: LinkConfig[];
}

/** codersdk.UpdateAppearanceConfig */
export interface UpdateAppearanceConfig {
  announcement_banners?: BannerConfig[];
  application_name?: string;
  logo_url?: string;
  /** @deprecated use announcement_banners */
  service_banner?: BannerConfig;
}

/** codersdk.WorkspaceConnectionLatencyMS */
export interface WorkspaceConnectionLatencyMS {
  p50?: number;
  p95?: number;
}

/** codersdk.WorkspaceDeploymentStats */
export interface WorkspaceDeploymentStats {
  building?: number;
  connection_latency_ms?: WorkspaceConnectionLatencyMS;
  failed?: number;
  pending?: number;
  running?: number;
  rx_bytes?: number;
  stopped?: number;
  tx_bytes?: number;
}

/** codersdk.SessionCountDeploymentStats */
export interface SessionCountDeploymentStats {
  jetbrains?: number;
  reconnecting_pty?: number;
  ssh?: number;
  vscode?: number;
}

/** codersdk.DeploymentStats */
export interface DeploymentStats {
  aggregated_from?: Timestamp;
  collected_at?: Timestamp;
  next_update_at?: Timestamp;
  session_count?: SessionCountDeploymentStats;
  workspaces?: WorkspaceDeploymentStats;
}

/**
 * healthsdk.HealthcheckReport, top level only; the per-subsystem reports are kept as opaque
 * objects because the runner only reads the overall severity.
 */
export interface HealthcheckReport {
  access_url?: Record<string, unknown>;
  coder_version?: string;
  database?: Record<string, unknown>;
  derp?: Record<string, unknown>;
  /** @deprecated use severity */
  healthy?: boolean;
  provisioner_daemons?: Record<string, unknown>;
  severity?: HealthSeverity;
  time?: Timestamp;
  websocket?: Record<string, unknown>;
  workspace_proxy?: Record<string, unknown>;
}

// ---- users, organizations, keys ----------------------------------------------------------------

/** codersdk.SlimRole */
export interface SlimRole {
  display_name?: string;
  name: string;
  organization_id?: string;
}

/** codersdk.User */
export interface User {
  avatar_url?: string;
  created_at: Timestamp;
  email: string;
  id: UUID;
  last_seen_at?: Timestamp;
  login_type?: LoginType;
  name?: string;
  organization_ids?: UUID[];
  roles?: SlimRole[];
  /** The contract narrows this to active|suspended, but new users may be `dormant` in practice. */
  status?: UserStatus;
  /** @deprecated */
  theme_preference?: string;
  updated_at?: Timestamp;
  username: string;
}

/** codersdk.MinimalUser */
export interface MinimalUser {
  avatar_url?: string;
  id: UUID;
  name?: string;
  username: string;
}

/** codersdk.GetUsersResponse */
export interface GetUsersResponse {
  count: number;
  users: User[];
}

/** codersdk.CreateUserRequestWithOrgs (POST /users) */
export interface CreateUserRequestWithOrgs {
  email: string;
  login_type?: LoginType;
  name?: string;
  organization_ids?: UUID[];
  password?: string;
  user_status?: UserStatus;
  username: string;
}

/** codersdk.Organization */
export interface Organization {
  created_at: Timestamp;
  description?: string;
  display_name?: string;
  icon?: string;
  id: UUID;
  is_default: boolean;
  name: string;
  updated_at: Timestamp;
}

/** codersdk.MinimalOrganization */
export interface MinimalOrganization {
  display_name?: string;
  icon?: string;
  id: UUID;
  name?: string;
}

/** codersdk.APIAllowListTarget */
export interface APIAllowListTarget {
  id?: string;
  type?: string;
}

/** codersdk.CreateTokenRequest (POST /users/{user}/keys/tokens) */
export interface CreateTokenRequest {
  allow_list?: APIAllowListTarget[];
  /** Lifetime in nanoseconds (Go time.Duration). */
  lifetime?: number;
  /** @deprecated use scopes */
  scope?: APIKeyScope;
  scopes?: APIKeyScope[];
  token_name?: string;
}

/** codersdk.GenerateAPIKeyResponse: `key` is `<id>-<secret>`; treat it as a secret. */
export interface GenerateAPIKeyResponse {
  key: string;
}

/** codersdk.APIKey */
export interface APIKey {
  allow_list?: APIAllowListTarget[];
  created_at: Timestamp;
  expires_at: Timestamp;
  id: string;
  last_used: Timestamp;
  lifetime_seconds: number;
  login_type: LoginType;
  /** @deprecated use scopes */
  scope?: APIKeyScope;
  scopes?: APIKeyScope[];
  token_name: string;
  updated_at: Timestamp;
  user_id: UUID;
}

// ---- templates ---------------------------------------------------------------------------------

/** codersdk.Template (fields the runner may read; all of Coder's are listed). */
export interface Template {
  active_user_count?: number;
  active_version_id: UUID;
  activity_bump_ms?: number;
  allow_user_autostart?: boolean;
  allow_user_autostop?: boolean;
  allow_user_cancel_workspace_jobs?: boolean;
  autostart_requirement?: { days_of_week?: string[] };
  autostop_requirement?: { days_of_week?: string[]; weeks?: number };
  build_time_stats?: Record<string, { p50?: number; p95?: number }>;
  cors_behavior?: string;
  created_at: Timestamp;
  created_by_id?: UUID;
  created_by_name?: string;
  default_ttl_ms?: number;
  deprecated?: boolean;
  deprecation_message?: string;
  description?: string;
  display_name?: string;
  failure_ttl_ms?: number;
  icon?: string;
  id: UUID;
  max_port_share_level?: string;
  name: string;
  organization_display_name?: string;
  organization_icon?: string;
  organization_id: UUID;
  organization_name?: string;
  provisioner?: "terraform";
  require_active_version?: boolean;
  time_til_dormant_autodelete_ms?: number;
  time_til_dormant_ms?: number;
  updated_at: Timestamp;
  use_classic_parameter_flow?: boolean;
}

/** codersdk.MatchedProvisioners */
export interface MatchedProvisioners {
  available?: number;
  count?: number;
  most_recently_seen?: Timestamp;
}

/** codersdk.TemplateVersion */
export interface TemplateVersion {
  archived?: boolean;
  created_at: Timestamp;
  created_by?: MinimalUser;
  has_external_agent?: boolean;
  id: UUID;
  job: ProvisionerJob;
  matched_provisioners?: MatchedProvisioners;
  message?: string;
  name: string;
  organization_id?: UUID;
  readme?: string;
  template_id?: UUID;
  updated_at: Timestamp;
  /** @deprecated */
  warnings?: TemplateVersionWarning[];
}

/** codersdk.TemplateVersionParameterOption */
export interface TemplateVersionParameterOption {
  description?: string;
  icon?: string;
  name: string;
  value: string;
}

/** codersdk.TemplateVersionParameter (a rich parameter of a template version). */
export interface TemplateVersionParameter {
  default_value: string;
  description?: string;
  description_plaintext?: string;
  display_name?: string;
  ephemeral?: boolean;
  form_type?: TemplateVersionParameterFormType;
  icon?: string;
  mutable: boolean;
  name: string;
  options?: TemplateVersionParameterOption[];
  required: boolean;
  type: TemplateVersionParameterType;
  validation_error?: string;
  validation_max?: number;
  validation_min?: number;
  validation_monotonic?: ValidationMonotonicOrder;
  validation_regex?: string;
}

// ---- provisioner jobs --------------------------------------------------------------------------

/** codersdk.ProvisionerJobInput */
export interface ProvisionerJobInput {
  error?: string;
  template_version_id?: UUID;
  workspace_build_id?: UUID;
}

/** codersdk.ProvisionerJobMetadata */
export interface ProvisionerJobMetadata {
  template_display_name?: string;
  template_icon?: string;
  template_id?: UUID;
  template_name?: string;
  template_version_name?: string;
  workspace_id?: UUID;
  workspace_name?: string;
}

/** codersdk.ProvisionerJob. `status` is narrowed by the contract to the first six values. */
export interface ProvisionerJob {
  available_workers?: UUID[];
  canceled_at?: Timestamp;
  completed_at?: Timestamp;
  created_at: Timestamp;
  error?: string;
  error_code?: JobErrorCode;
  file_id?: UUID;
  id: UUID;
  initiator_id?: UUID;
  input?: ProvisionerJobInput;
  logs_overflowed?: boolean;
  metadata?: ProvisionerJobMetadata;
  organization_id?: UUID;
  queue_position?: number;
  queue_size?: number;
  started_at?: Timestamp;
  status: Exclude<ProvisionerJobStatus, "unknown">;
  tags?: Record<string, string>;
  type?: ProvisionerJobType;
  worker_id?: UUID;
  worker_name?: string;
}

/** codersdk.ProvisionerJobLog (GET /workspacebuilds/{id}/logs returns an array of these). */
export interface ProvisionerJobLog {
  created_at: Timestamp;
  id: number;
  log_level: LogLevel;
  log_source: LogSource;
  output: string;
  stage: string;
}

// ---- workspaces, builds, resources, agents -----------------------------------------------------

/** codersdk.WorkspaceBuildParameter: a rich parameter value. */
export interface WorkspaceBuildParameter {
  name: string;
  value: string;
}

/** codersdk.CreateWorkspaceRequest (POST /users/{user}/workspaces). Give template_id OR template_version_id. */
export interface CreateWorkspaceRequest {
  automatic_updates?: AutomaticUpdates;
  autostart_schedule?: string;
  name: string;
  rich_parameter_values?: WorkspaceBuildParameter[];
  template_id?: UUID;
  template_version_id?: UUID;
  template_version_preset_id?: UUID;
  ttl_ms?: number;
}

/** codersdk.CreateWorkspaceBuildRequest (POST /workspaces/{workspace}/builds). */
export interface CreateWorkspaceBuildRequest {
  dry_run?: boolean;
  log_level?: ProvisionerLogLevel;
  orphan?: boolean;
  reason?: CreateWorkspaceBuildReason;
  rich_parameter_values?: WorkspaceBuildParameter[];
  /** Terraform state bytes (Go []byte). */
  state?: number[];
  template_version_id?: UUID;
  template_version_preset_id?: UUID;
  transition: WorkspaceTransition;
}

/** codersdk.UpdateWorkspaceRequest (PATCH /workspaces/{workspace}) */
export interface UpdateWorkspaceRequest {
  name?: string;
}

/** codersdk.Healthcheck (an app's health check) */
export interface Healthcheck {
  interval?: number;
  threshold?: number;
  url?: string;
}

/** codersdk.WorkspaceAppStatus */
export interface WorkspaceAppStatus {
  agent_id?: UUID;
  app_id?: UUID;
  created_at?: Timestamp;
  id?: UUID;
  message?: string;
  state?: WorkspaceAppStatusState;
  uri?: string;
  workspace_id?: UUID;
}

/** codersdk.WorkspaceApp */
export interface WorkspaceApp {
  command?: string;
  display_name?: string;
  external?: boolean;
  group?: string;
  health?: WorkspaceAppHealth;
  healthcheck?: Healthcheck;
  hidden?: boolean;
  icon?: string;
  id: UUID;
  open_in?: WorkspaceAppOpenIn;
  sharing_level?: WorkspaceAppSharingLevel;
  slug: string;
  statuses?: WorkspaceAppStatus[];
  subdomain?: boolean;
  subdomain_name?: string;
  tooltip?: string;
  url?: string;
}

/** codersdk.WorkspaceAgentHealth */
export interface WorkspaceAgentHealth {
  healthy?: boolean;
  reason?: string;
}

/** codersdk.WorkspaceAgentLogSource */
export interface WorkspaceAgentLogSource {
  created_at?: Timestamp;
  display_name?: string;
  icon?: string;
  id?: UUID;
  workspace_agent_id?: UUID;
}

/** codersdk.WorkspaceAgentScript */
export interface WorkspaceAgentScript {
  cron?: string;
  display_name?: string;
  id?: UUID;
  log_path?: string;
  log_source_id?: UUID;
  run_on_start?: boolean;
  run_on_stop?: boolean;
  script?: string;
  start_blocks_login?: boolean;
  timeout?: number;
}

/** uuid.NullUUID */
export interface NullUUID {
  uuid?: UUID;
  valid?: boolean;
}

/** codersdk.WorkspaceAgent */
export interface WorkspaceAgent {
  api_version?: string;
  apps?: WorkspaceApp[];
  architecture?: string;
  connection_timeout_seconds?: number;
  created_at: Timestamp;
  directory?: string;
  disconnected_at?: Timestamp;
  display_apps?: DisplayApp[];
  environment_variables?: Record<string, string>;
  expanded_directory?: string;
  first_connected_at?: Timestamp;
  health?: WorkspaceAgentHealth;
  id: UUID;
  instance_id?: string;
  last_connected_at?: Timestamp;
  latency?: Record<string, { latency_ms?: number; preferred?: boolean }>;
  lifecycle_state: WorkspaceAgentLifecycle;
  log_sources?: WorkspaceAgentLogSource[];
  logs_length?: number;
  logs_overflowed?: boolean;
  name: string;
  operating_system?: string;
  parent_id?: NullUUID;
  ready_at?: Timestamp;
  resource_id?: UUID;
  scripts?: WorkspaceAgentScript[];
  started_at?: Timestamp;
  /** @deprecated */
  startup_script_behavior?: WorkspaceAgentStartupScriptBehavior;
  status: WorkspaceAgentStatus;
  subsystems?: AgentSubsystem[];
  troubleshooting_url?: string;
  updated_at?: Timestamp;
  version?: string;
}

/** codersdk.WorkspaceResourceMetadata */
export interface WorkspaceResourceMetadata {
  key: string;
  sensitive?: boolean;
  value: string;
}

/** codersdk.WorkspaceResource */
export interface WorkspaceResource {
  agents?: WorkspaceAgent[];
  created_at?: Timestamp;
  daily_cost?: number;
  hide?: boolean;
  icon?: string;
  id: UUID;
  job_id?: UUID;
  metadata?: WorkspaceResourceMetadata[];
  name: string;
  type: string;
  workspace_transition?: WorkspaceTransition;
}

/** codersdk.WorkspaceBuild */
export interface WorkspaceBuild {
  build_number: number;
  created_at: Timestamp;
  daily_cost?: number;
  deadline?: Timestamp;
  /** @deprecated */
  has_ai_task?: boolean;
  has_external_agent?: boolean;
  id: UUID;
  initiator_id?: UUID;
  initiator_name?: string;
  job: ProvisionerJob;
  matched_provisioners?: MatchedProvisioners;
  max_deadline?: Timestamp;
  reason?: BuildReason;
  resources: WorkspaceResource[];
  status: WorkspaceStatus;
  template_version_id: UUID;
  template_version_name?: string;
  template_version_preset_id?: UUID;
  transition: WorkspaceTransition;
  updated_at: Timestamp;
  workspace_id: UUID;
  workspace_name: string;
  workspace_owner_avatar_url?: string;
  workspace_owner_id: UUID;
  workspace_owner_name: string;
}

/** codersdk.WorkspaceHealth */
export interface WorkspaceHealth {
  failing_agents?: UUID[];
  healthy?: boolean;
}

/** codersdk.Workspace */
export interface Workspace {
  allow_renames?: boolean;
  automatic_updates?: AutomaticUpdates;
  autostart_schedule?: string;
  created_at: Timestamp;
  deleting_at?: Timestamp;
  dormant_at?: Timestamp;
  favorite?: boolean;
  health?: WorkspaceHealth;
  id: UUID;
  is_prebuild?: boolean;
  last_used_at?: Timestamp;
  latest_app_status?: WorkspaceAppStatus;
  latest_build: WorkspaceBuild;
  name: string;
  next_start_at?: Timestamp;
  organization_id: UUID;
  organization_name?: string;
  outdated?: boolean;
  owner_avatar_url?: string;
  owner_id: UUID;
  owner_name: string;
  shared_with?: unknown[];
  task_id?: NullUUID;
  template_active_version_id?: UUID;
  template_allow_user_cancel_workspace_jobs?: boolean;
  template_display_name?: string;
  template_icon?: string;
  template_id: UUID;
  template_name: string;
  template_require_active_version?: boolean;
  template_use_classic_parameter_flow?: boolean;
  ttl_ms?: number;
  updated_at: Timestamp;
}

/** codersdk.WorkspacesResponse */
export interface WorkspacesResponse {
  count: number;
  workspaces: Workspace[];
}

/** codersdk.ServerSentEvent (frames of /workspaces/{id}/watch-ws) */
export interface ServerSentEvent {
  data?: unknown;
  type: ServerSentEventType;
}

// Initial content of the simulated deployment: the default organization "coder", the owner
// "admin", the kubernetes-* templates Coder's scale tests use, and (optionally) pre-existing
// non-scaletest users and workspaces that every test must leave intact.
import type { SimCore } from "./core.ts";
import type { Engine } from "./engine.ts";
import type { SimAppSpec, SimParam, SimTemplate, SimUser, SimWorkspace } from "./state.ts";

const DAY = 24 * 3600 * 1000;

function numberOption(v: number, unit: string): { name: string; value: string; description: string; icon: string } {
  return { name: `${v} ${unit}`, value: String(v), description: "", icon: "" };
}

/** Parameters modelled on Coder's kubernetes starter template (cpu, memory, home_disk_size). */
function kubernetesParams(cpu: number, memory: number, disk: number): SimParam[] {
  const sizes = [1, 2, 4, 6, 8];
  return [
    {
      name: "cpu", displayName: "CPU", description: "The number of CPU cores", type: "number",
      defaultValue: String(cpu), required: false, mutable: true, ephemeral: false, icon: "/icon/memory.svg",
      formType: "dropdown", options: sizes.map((s) => numberOption(s, "Cores")),
    },
    {
      name: "memory", displayName: "Memory", description: "The amount of memory in GB", type: "number",
      defaultValue: String(memory), required: false, mutable: true, ephemeral: false, icon: "/icon/memory.svg",
      formType: "dropdown", options: sizes.map((s) => numberOption(s, "GB")),
    },
    {
      name: "home_disk_size", displayName: "Home disk size", description: "The size of the home disk in GB",
      type: "number", defaultValue: String(disk), required: false, mutable: false, ephemeral: false,
      icon: "/emojis/1f4be.png", formType: "input", options: [], validationMin: 1, validationMax: 99999,
      validationMonotonic: "increasing",
    },
  ];
}

/**
 * Apps the scale-test templates run in each pod (websocat echo/read/discard, see scaletest notes). Coder's own
 * templates make them subdomain apps; a loopback simulator has no wildcard DNS (and so no app host), and Coder's
 * scale test refuses subdomain apps without one, so the simulated template serves them path-based, as a
 * deployment without a wildcard access URL must.
 */
const SCALETEST_APPS: SimAppSpec[] = [
  { slug: "wsec", displayName: "WebSocket Echo", url: "http://localhost:1234", subdomain: false, sharingLevel: "authenticated", icon: "", external: false },
  { slug: "wsra", displayName: "WebSocket Read (Random)", url: "http://localhost:1235", subdomain: false, sharingLevel: "authenticated", icon: "", external: false },
  { slug: "wsdi", displayName: "WebSocket Write (Discard)", url: "http://localhost:1236", subdomain: false, sharingLevel: "authenticated", icon: "", external: false },
];

interface TemplateSpec {
  name: string;
  displayName: string;
  description: string;
  agentName: string;
  params: SimParam[];
  apps: SimAppSpec[];
}

const TEMPLATES: TemplateSpec[] = [
  { name: "kubernetes-minimal", displayName: "Kubernetes (minimal)", description: "Smallest pod for scale tests", agentName: "main", params: kubernetesParams(1, 1, 1), apps: SCALETEST_APPS },
  { name: "kubernetes-small", displayName: "Kubernetes (small)", description: "Small pod for scale tests", agentName: "main", params: kubernetesParams(2, 2, 10), apps: SCALETEST_APPS },
  { name: "kubernetes-medium", displayName: "Kubernetes (medium)", description: "Medium pod for scale tests", agentName: "main", params: kubernetesParams(4, 4, 10), apps: SCALETEST_APPS },
  { name: "kubernetes-medium-greedy", displayName: "Kubernetes (medium, greedy agent)", description: "Medium pod whose agent uses all the CPU it can", agentName: "main", params: kubernetesParams(4, 4, 10), apps: SCALETEST_APPS },
  { name: "kubernetes-large", displayName: "Kubernetes (large)", description: "Large pod for scale tests", agentName: "main", params: kubernetesParams(8, 8, 20), apps: SCALETEST_APPS },
  {
    // A non-scaletest template used by the pre-existing workspaces; it has a required parameter
    // without a default, and list/bool/regex-validated ones.
    name: "docker-dev", displayName: "Docker dev box", description: "Team development environment", agentName: "dev",
    apps: [{ slug: "code-server", displayName: "code-server", url: "http://localhost:13337", subdomain: false, sharingLevel: "owner", icon: "/icon/code.svg", external: false }],
    params: [
      { name: "repo_url", displayName: "Repository URL", description: "Git repository to clone", type: "string", defaultValue: "", required: true, mutable: true, ephemeral: false, icon: "", formType: "input", options: [], validationRegex: "^https://", validationError: "The repository URL must start with https://" },
      { name: "dotfiles", displayName: "Use dotfiles", description: "Install personal dotfiles", type: "bool", defaultValue: "false", required: false, mutable: true, ephemeral: false, icon: "", formType: "checkbox", options: [] },
      { name: "editors", displayName: "Editors", description: "Editors to install", type: "list(string)", defaultValue: '["vim"]', required: false, mutable: true, ephemeral: false, icon: "", formType: "multi-select", options: [] },
    ],
  },
];

export function seed(core: SimCore, engine: Engine): void {
  const { state, rng } = core;
  const now = core.now();
  state.deploymentId = rng.uuid();
  const org = {
    id: rng.uuid(), name: "coder", displayName: "Coder", description: "Builtin default organization.", icon: "",
    isDefault: true, createdAt: now - 90 * DAY, updatedAt: now - 90 * DAY,
  };
  state.orgs.set(org.id, org);
  state.defaultOrgId = org.id;

  const addUser = (username: string, roles: string[], createdAt: number, preexisting: boolean): SimUser => {
    const u: SimUser = {
      id: rng.uuid(), username, email: `${username}@coder.com`, name: username === "admin" ? "Admin" : username,
      createdAt, updatedAt: createdAt, lastSeenAt: createdAt, status: "active", loginType: "password",
      password: "SomeSecurePassword!", roles, orgIds: [org.id], deleted: false, preexisting,
    };
    state.users.set(u.id, u);
    return u;
  };
  const owner = addUser("admin", ["owner"], now - 90 * DAY, true);
  const { token } = core.mintKey(owner.id, {
    loginType: "password", tokenName: "", lifetimeSeconds: 365 * 24 * 3600, ...(core.opts.ownerToken ? { token: core.opts.ownerToken } : {}),
  });
  core.ownerToken = token;

  let n = 0;
  for (const spec of TEMPLATES) {
    const created = now - (80 - n++) * DAY;
    const tplId = rng.uuid();
    const version = {
      id: rng.uuid(), templateId: tplId, orgId: org.id, name: `v1-${spec.name}`, message: "Initial version",
      readme: `# ${spec.displayName}\n\n${spec.description}\n`, createdAt: created, updatedAt: created,
      createdById: owner.id, params: spec.params, jobId: rng.uuid(),
    };
    const tpl: SimTemplate = {
      id: tplId, orgId: org.id, name: spec.name, displayName: spec.displayName, description: spec.description,
      icon: "/icon/k8s.png", activeVersionId: version.id, createdAt: created, updatedAt: created,
      createdById: owner.id, defaultTtlMs: 0, agentName: spec.agentName, apps: spec.apps, deprecated: "",
    };
    state.templates.set(tpl.id, tpl);
    state.templateVersions.set(version.id, version);
    // The version's import job, finished long ago.
    state.jobs.set(version.jobId, {
      id: version.jobId, type: "template_version_import", orgId: org.id, initiatorId: owner.id, fileId: rng.uuid(),
      createdAt: created, updatedAt: created + 20_000, startedAt: created + 1000, completedAt: created + 20_000,
      templateVersionId: version.id, durationMs: 19_000, logs: [],
      faults: { fail: false, stuck: false, agentNeverConnects: false },
    });
  }

  if (!core.opts.preexisting) return;
  const tplByName = (name: string): SimTemplate => {
    for (const t of state.templates.values()) if (t.name === name) return t;
    throw new Error(`seed template ${name} missing`);
  };
  const alice = addUser("alice", [], now - 60 * DAY, true);
  const bob = addUser("bob", [], now - 50 * DAY, true);
  // "scaletest" (no dash) owns the runner workspace: it is not a scaletest-* resource.
  const runnerOwner = addUser("scaletest", [], now - 30 * DAY, true);
  addUser("carol-template-admin", ["template-admin"], now - 40 * DAY, true);
  const addWorkspace = (owner: SimUser, name: string, template: string, transitions: ("start" | "stop")[], params: { name: string; value: string }[]): SimWorkspace => {
    const tpl = tplByName(template);
    const created = now - 20 * DAY;
    const ws: SimWorkspace = {
      id: rng.uuid(), ownerId: owner.id, orgId: org.id, templateId: tpl.id, name, createdAt: created,
      updatedAt: created, lastUsedAt: now - DAY, deleted: false, automaticUpdates: "never", buildIds: [], preexisting: true,
    };
    state.workspaces.set(ws.id, ws);
    transitions.forEach((t, i) => engine.seedBuild(ws, t, created + i * DAY, owner.id, params));
    return ws;
  };
  const dev = [{ name: "repo_url", value: "https://github.com/coder/coder" }, { name: "dotfiles", value: "false" }, { name: "editors", value: '["vim"]' }];
  const k8s = (cpu: number) => [{ name: "cpu", value: String(cpu) }, { name: "memory", value: String(cpu) }, { name: "home_disk_size", value: "10" }];
  addWorkspace(alice, "dev", "docker-dev", ["start"], dev);
  // Its name contains "scaletest-" (Coder's name: filter is a substring match) but does not start with it.
  addWorkspace(alice, "my-scaletest-box", "kubernetes-small", ["start", "stop"], k8s(2));
  addWorkspace(bob, "api", "kubernetes-medium", ["start", "stop", "start"], k8s(4));
  addWorkspace(owner, "admin-tools", "kubernetes-minimal", ["start"], k8s(1));
  addWorkspace(runnerOwner, "runner", "kubernetes-large", ["start"], k8s(8));
}

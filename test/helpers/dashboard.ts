// Helpers for the dashboard-traffic tests: scaletest users (with a workspace each) in a simulator.
import { CoderClient } from "../../src/coder/index.ts";
import type { Sim } from "./sim.ts";

export function ownerClient(sim: Sim): CoderClient {
  return new CoderClient({ url: sim.url, token: sim.ownerToken, retry: { attempts: 1 } });
}

/** Creates `scaletest-<runId>-NNNN` member users, each with one running workspace of the first template. */
export async function createScaletestUsers(client: CoderClient, runId: string, count: number): Promise<string[]> {
  const org = await client.defaultOrganization();
  const templates = await client.listTemplates();
  // A template whose parameters all have defaults.
  const template = templates.find((t) => t.name === "kubernetes-minimal");
  if (!template) throw new Error("the simulator has no kubernetes-minimal template to create workspaces from");
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const username = `scaletest-${runId}-${String(i).padStart(4, "0")}`;
    await client.createUser({
      username,
      email: `${username.slice("scaletest-".length)}@scaletest.local`, // as src/create/unit.ts names it
      password: "scaletest-Passw0rd!",
      login_type: "password",
      organization_ids: [org.id],
    });
    await client.createWorkspace(username, { name: username, template_id: template.id });
    names.push(username);
  }
  return names;
}

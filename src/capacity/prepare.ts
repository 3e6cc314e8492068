// The search's part of the pipeline's preflight (read-only, before anything is created): the plan and its
// checks, and for steps that create workspaces, one create plan naming the run's workspaces and every workspace
// a step may add (one name width, so name order is index order), checked free like the run's own.
import type { CoderClient } from "../coder/index.ts";
import type { Config } from "../config/index.ts";
import { planCreate } from "../create/plan.ts";
import type { CreateSettings } from "../create/phase.ts";
import { createsWorkspaces, planCapacity } from "./plan.ts";
import type { CapacitySetup } from "./search.ts";

export interface CapacityPreflight {
  setup: CapacitySetup;
  /** The run's own create settings, renamed when steps add workspaces after them. */
  create: CreateSettings;
}

export async function prepareCapacity(client: CoderClient, c: Config, create: CreateSettings): Promise<CapacityPreflight> {
  const plan = planCapacity(c);
  if (!createsWorkspaces(plan.load) || plan.maxCreated === 0) return { setup: { plan, create: null, names: [] }, create };
  const all = await planCreate(client, { ...create.options, count: c.workspaces + plan.maxCreated });
  const own: CreateSettings = { ...create, plan: { ...all, names: all.names.slice(0, c.workspaces) } };
  return { setup: { plan, create: own, names: all.names.slice(c.workspaces) }, create: own };
}

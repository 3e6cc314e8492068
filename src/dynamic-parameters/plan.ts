// Everything dynamic-parameters checks before it creates anything: the options, the caller (an Owner, as
// Coder's RequireAdmin), the organization, and whether --template exists (it is created otherwise, so its
// name must follow the ownership rule: only scaletest- templates are created or given versions).
import type { CoderClient } from "../coder/client.ts";
import { CoderApiError } from "../coder/errors.ts";
import type { Template } from "../coder/types.ts";
import { BadInputError } from "../util/errors.ts";
import { ALL_PREFIX, assertCoderName, validateRunId } from "../util/naming.ts";
import { partitionEvaluations } from "./template.ts";
import type { DynamicParametersOptions, DynamicParametersPlan } from "./types.ts";

/** Largest --concurrent-evaluations accepted (the settings schema's bound). */
export const MAX_EVALUATIONS = 10_000;

export class DynamicParametersInputError extends BadInputError {
  constructor(readonly problems: string[]) {
    super(
      problems.length === 1
        ? `dynamic-parameters: ${problems[0]}`
        : `dynamic-parameters: ${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
    this.name = "DynamicParametersInputError";
  }
}

/** Coder's ParseProvisionerTags: key=value items. */
export function parseProvisionerTags(items: readonly string[]): { tags: Record<string, string>; problems: string[] } {
  const tags: Record<string, string> = {};
  const problems: string[] = [];
  for (const item of items) {
    const i = item.indexOf("=");
    if (i <= 0) {
      problems.push(`--provisioner-tag ${JSON.stringify(item)} must be key=value`);
      continue;
    }
    tags[item.slice(0, i).trim()] = item.slice(i + 1).trim();
  }
  return { tags, problems };
}

export function checkOptions(o: DynamicParametersOptions): string[] {
  const p: string[] = [];
  try {
    validateRunId(o.runId);
  } catch (e) {
    p.push((e as Error).message);
  }
  if (!Number.isInteger(o.concurrentEvaluations) || o.concurrentEvaluations < 1 || o.concurrentEvaluations > MAX_EVALUATIONS) {
    p.push(`--concurrent-evaluations must be a whole number from 1 to ${MAX_EVALUATIONS}; got ${o.concurrentEvaluations}`);
  }
  const name = o.template.trim();
  if (!name) p.push("--template cannot be empty (default scaletest-dynamic-parameters)");
  else if (!name.startsWith(ALL_PREFIX)) {
    p.push(`--template ${JSON.stringify(name)} must start with ${ALL_PREFIX}: this load type adds versions to it (and creates it when missing), so only a scale-test template may be used`);
  } else {
    try {
      assertCoderName(name);
    } catch (e) {
      p.push(`--template: ${(e as Error).message}`);
    }
  }
  if (!(o.jobTimeoutMs > 0)) p.push(`--job-timeout must be positive; got ${o.jobTimeoutMs} ms`);
  if (!(o.timeoutMs >= 0)) p.push(`--timeout must be 0 (none) or positive; got ${o.timeoutMs} ms`);
  if (!(o.importTimeoutMs > 0)) p.push(`--import-timeout must be positive; got ${o.importTimeoutMs} ms`);
  p.push(...parseProvisionerTags(o.provisionerTags).problems);
  return p;
}

/** Validates and reads (never writes): throws DynamicParametersInputError listing the problems. */
export async function planDynamicParameters(client: CoderClient, o: DynamicParametersOptions): Promise<DynamicParametersPlan> {
  const problems = checkOptions(o);
  if (problems.length) throw new DynamicParametersInputError(problems);
  const runner = await client.me();
  if (!(runner.roles ?? []).some((r) => r.name === "owner")) {
    throw new DynamicParametersInputError([`the token's user ${runner.username} is not an Owner: Coder's tool requires one (it creates template versions and templates)`]);
  }
  const organization = await client.defaultOrganization();
  let template: Template | null = null;
  try {
    template = await client.templateByName(organization.id, o.template.trim());
  } catch (e) {
    if (!(e instanceof CoderApiError) || e.status !== 404) throw e;
  }
  return {
    runner,
    organization,
    template,
    parts: partitionEvaluations(o.concurrentEvaluations),
    provisionerTags: parseProvisionerTags(o.provisionerTags).tags,
  };
}

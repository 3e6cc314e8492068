// create-users as a runner (src/scenario/runner.ts): makes the pool named by --run-id. Metrics:
// create-users.create / create-users.login / create-users.role (ms per call), create-users.error_rate.
// The preset `create-users.error_rate<=0%` fails the run when any user could not be made.
import type { SettingKey } from "../config/index.ts";
import { latency, rate, ratio, samplesSeries } from "../results/metric-set.ts";
import type { MetricSetJSON } from "../results/schema.ts";
import { formatMs } from "../results/stats.ts";
import { plannedRunner, type PlannedState } from "../scenario/planned.ts";
import type { PhaseResult, Runner } from "../scenario/runner.ts";
import {
  checkCreateUsersOptions,
  CreateUsersInputError,
  executeCreateUsers,
  planCreateUsers,
  type CreateUsersOptions,
  type CreateUsersPlan,
  type CreateUsersResult,
  type UserRecord,
} from "./create-users.ts";

const SETTINGS: readonly SettingKey[] = ["runId", "cuCount", "cuTemplateAdminPercentage", "cuConcurrency"];

export function createUsersMetricSet(users: readonly UserRecord[]): MetricSetJSON {
  const pick = (f: (u: UserRecord) => number | null) => samplesSeries(users.map(f).filter((v): v is number => v !== null));
  return {
    "create-users.create": latency(pick((u) => u.create_ms)),
    "create-users.login": latency(pick((u) => u.login_ms)),
    "create-users.role": latency(pick((u) => u.role_ms)),
    "create-users.error_rate": rate(ratio(users.filter((u) => !u.ok).length, users.length)),
  };
}

export function renderCreateUsersText(r: CreateUsersResult): string {
  const lines = [
    `create-users: pool ${r.pool}: ${r.pass} of ${r.users.length} user(s) made (${r.template_admins} template admin(s)) in ${formatMs(r.elapsed_ms)}`,
    `  use it with --user-pool ${r.pool}; remove it with: cleanup --run-id ${r.pool}`,
  ];
  for (const u of r.users.filter((x) => !x.ok).slice(0, 20)) lines.push(`    ${u.username}: ${u.error}`);
  return `${lines.join("\n")}\n`;
}

export function createUsersPhaseResult(r: CreateUsersResult): PhaseResult {
  return {
    startedAt: new Date(r.started_at),
    endedAt: new Date(r.started_at + r.elapsed_ms),
    activeMs: r.elapsed_ms,
    units: r.users.map((u) => ({
      testName: "createusers",
      id: String(u.index),
      name: u.username,
      ok: u.ok,
      ...(u.not_started ? { notStarted: true } : {}),
      error: u.error,
      startedAt: new Date(u.started_at),
      durationMs: (u.create_ms ?? 0) + (u.login_ms ?? 0) + (u.role_ms ?? 0),
      stages: { create: u.create_ms, login: u.login_ms, role: u.role_ms },
      extra: { user_id: u.user_id, template_admin: u.template_admin },
    })),
    metrics: createUsersMetricSet(r.users),
    headline: [
      { label: "users", value: r.pass, unit: "count" },
      { label: "template admins", value: r.template_admins, unit: "count" },
      { label: "failed", value: r.fail, unit: "count" },
    ],
    errors: r.users.filter((u) => !u.ok && u.error).slice(0, 10).map((u) => `${u.username}: ${u.error}`),
    stoppedEarly: r.users.some((u) => u.not_started),
    harnessExtra: { pool: r.pool },
    extra: { pool: r.pool, template_admins: r.template_admins },
    text: renderCreateUsersText(r),
  };
}

export type CreateUsersSettings = PlannedState<CreateUsersOptions, CreateUsersPlan>;

export function createUsersRunner(): Runner<CreateUsersSettings> {
  return plannedRunner({
    name: "create-users",
    testName: "createusers",
    settings: SETTINGS,
    presets: () => ["create-users.error_rate<=0%"],
    options: (c): CreateUsersOptions => ({
      pool: c.runId,
      count: c.cuCount,
      templateAdminPercentage: c.cuTemplateAdminPercentage,
      concurrency: c.cuConcurrency,
    }),
    check: checkCreateUsersOptions,
    inputError: (problems) => new CreateUsersInputError(problems),
    plan: (ctx, options) => planCreateUsers(ctx.client, options),
    async execute(ctx, plan, options) {
      const done: UserRecord[] = [];
      ctx.live(() => createUsersMetricSet(done));
      const r = await executeCreateUsers(ctx.client, plan, options, {
        signal: ctx.signal,
        runUnits: ctx.runUnits,
        log: ctx.log.atLevel,
        onUserDone: (u) => done.push(u),
      });
      return createUsersPhaseResult(r);
    },
  });
}

// API mode sends what Coder's frontend sends for a page, and nothing it does not (facts: the frontend's
// WorkspacePage/UsersPage): the workspace page asks for the template's active version only when the workspace is
// outdated and never for the build list (only the history sidebar loads it); the users page sends no q filter.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DASHBOARD_PAGES, newPageState, type PageApi, type Query } from "../src/dashboard/pages.ts";

function recorder(answers: Record<string, unknown>): { api: PageApi; calls: { endpoint: string; path: string; query?: Query }[] } {
  const calls: { endpoint: string; path: string; query?: Query }[] = [];
  return {
    calls,
    api: {
      async get<T>(endpoint: string, path: string, query?: Query): Promise<T> {
        calls.push({ endpoint, path, ...(query ? { query } : {}) });
        return answers[endpoint] as T;
      },
    },
  };
}

const page = (name: string) => DASHBOARD_PAGES.find((p) => p.name === name)!;

test("workspace page: template, active version only when outdated, no build list", async () => {
  const state = newPageState({ username: "scaletest-x-1", owner: false });
  state.workspaces = [{ owner_name: "scaletest-x-1", name: "scaletest-x-1" }];
  for (const outdated of [false, true]) {
    const ws = { id: "w1", name: "scaletest-x-1", owner_name: "scaletest-x-1", template_id: "t1", template_active_version_id: "v-active", outdated, latest_build: { id: "b1", template_version_id: "v-old" } };
    const r = recorder({ "GET /users/{user}/workspace/{workspacename}": ws });
    await page("workspace").target(state, (xs) => xs[0]!)!.load(r.api, state);
    assert.deepEqual(r.calls.map((c) => c.path), [
      "/users/scaletest-x-1/workspace/scaletest-x-1",
      "/templates/t1",
      ...(outdated ? ["/templateversions/v-active"] : []),
    ]);
    assert.ok(!r.calls.some((c) => c.path.endsWith("/builds")));
  }
});

test("users page: limit and offset, no q", async () => {
  const r = recorder({});
  const state = newPageState({ username: "admin", owner: true });
  await page("users").target(state, (xs) => xs[0]!)!.load(r.api, state);
  const users = r.calls.find((c) => c.endpoint === "GET /users")!;
  assert.deepEqual(users.query, { limit: 25, offset: 0 });
});

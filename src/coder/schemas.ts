// The shapes of the few answers everything else relies on (zod, loose: extra fields pass through). An
// answer that does not match fails at once with one clear error naming the URL (see client.#parseOk),
// instead of "token belongs to undefined" and calls to /users/undefined later.
import { z } from "zod";

const id = z.string().min(1);

const user = z.looseObject({ id, username: z.string().min(1), email: z.string().optional() });

const build = z.looseObject({
  id,
  transition: z.string(),
  job: z.looseObject({ status: z.string() }),
  resources: z.array(z.looseObject({ agents: z.array(z.looseObject({ id, name: z.string() })).nullish() })).nullish(),
});

const workspace = z.looseObject({ id, name: z.string().min(1), owner_id: id, owner_name: z.string().min(1), latest_build: build });

export const S = {
  user,
  usersPage: z.looseObject({ users: z.array(user).nullable(), count: z.number().int().nonnegative().optional() }),
  apiKey: z.looseObject({ key: z.string().min(1) }),
  loginResponse: z.looseObject({ session_token: z.string().min(1) }),
  build,
  workspace,
  workspacesPage: z.looseObject({ workspaces: z.array(workspace).nullable(), count: z.number().int().nonnegative().optional() }),
};

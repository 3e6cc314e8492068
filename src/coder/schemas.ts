// The shapes of the few answers everything else relies on. An answer that does not match fails at once with
// one clear error naming the URL (see client.#parseOk), instead of "token belongs to undefined" and calls to
// /users/undefined later. Each schema checks only the fields named here and the client returns the answer
// exactly as parsed (every other field included), so they are plain z.object checks: a z.looseObject would
// copy all of an answer's fields into a new object on every call — a whole workspace, tens of fields deep,
// on every poll — only for that copy to be thrown away. No transforms or defaults here: they would be ignored.
import { z } from "zod";

const id = z.string().min(1);

const user = z.object({ id, username: z.string().min(1), email: z.string().optional() });

const build = z.object({
  id,
  transition: z.string(),
  job: z.object({ status: z.string() }),
  resources: z.array(z.object({ agents: z.array(z.object({ id, name: z.string() })).nullish() })).nullish(),
});

const workspace = z.object({ id, name: z.string().min(1), owner_id: id, owner_name: z.string().min(1), latest_build: build });

export const S = {
  user,
  usersPage: z.object({ users: z.array(user).nullable(), count: z.number().int().nonnegative().optional() }),
  apiKey: z.object({ key: z.string().min(1) }),
  loginResponse: z.object({ session_token: z.string().min(1) }),
  build,
  workspace,
  workspacesPage: z.object({ workspaces: z.array(workspace).nullable(), count: z.number().int().nonnegative().optional() }),
};

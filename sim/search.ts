// Coder's search-query syntax for `q`: space-separated terms, each "key:value" or a bare word;
// values may be double-quoted. Bare words go to a default key (workspaces: name, users: search).
import { HttpError, type ValidationError } from "./http/context.ts";

export type SearchTerms = Map<string, string[]>;

export function parseSearch(q: string, defaultKey: string, allowed: string[], what: string): SearchTerms {
  const terms: SearchTerms = new Map();
  const errors: ValidationError[] = [];
  const re = /(?:([a-zA-Z_-]+):)?(?:"([^"]*)"|(\S+))/g;
  for (const m of q.matchAll(re)) {
    const key = (m[1] ?? defaultKey).toLowerCase();
    const value = m[2] ?? m[3] ?? "";
    if (!allowed.includes(key)) {
      errors.push({ field: key, detail: `Query param "${key}" is not a valid query param` });
      continue;
    }
    const list = terms.get(key) ?? [];
    list.push(value);
    terms.set(key, list);
  }
  if (errors.length > 0) throw new HttpError(400, `Invalid ${what} search query.`, undefined, errors);
  return terms;
}

/** limit/offset/after_id as Coder's parsePagination reads them. */
export function paginate<T extends { id: string }>(items: T[], query: URLSearchParams): T[] {
  const errors: ValidationError[] = [];
  const int = (name: string): number => {
    const raw = query.get(name);
    if (raw === null || raw === "") return 0;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) {
      errors.push({ field: name, detail: `Query param "${name}" must be a valid non-negative integer (${raw})` });
      return 0;
    }
    return n;
  };
  const limit = int("limit");
  const offset = int("offset");
  const afterId = query.get("after_id");
  if (afterId && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(afterId)) {
    errors.push({ field: "after_id", detail: `Query param "after_id" must be a valid uuid` });
  }
  if (errors.length > 0) throw new HttpError(400, "Query parameters have invalid values.", undefined, errors);
  let list = items;
  if (afterId) {
    const i = list.findIndex((x) => x.id === afterId);
    list = i < 0 ? [] : list.slice(i + 1);
  }
  list = list.slice(offset);
  return limit > 0 ? list.slice(0, limit) : list;
}

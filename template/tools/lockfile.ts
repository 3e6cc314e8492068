// Reads template/.terraform.lock.hcl and checks its providers against main.tf's version constraints, with
// Terraform's rules (https://developer.hashicorp.com/terraform/language/expressions/version-constraints), so a
// lock file that `terraform init` would reject (a version outside the constraint) is caught here, without the
// registry. Used by test/template-lockfile.test.ts.
import { parse } from "@cdktf/hcl2json";

export interface LockedProvider {
  /** e.g. "registry.terraform.io/hashicorp/kubernetes" */
  address: string;
  version: string;
  constraints?: string;
  hashes: string[];
}

/** The lock file's provider blocks, by address. */
export async function parseLockFile(text: string, file = ".terraform.lock.hcl"): Promise<Map<string, LockedProvider>> {
  const json = (await parse(file, text)) as { provider?: Record<string, { version?: string; constraints?: string; hashes?: string[] }[]> };
  const out = new Map<string, LockedProvider>();
  for (const [address, blocks] of Object.entries(json.provider ?? {})) {
    const b = blocks[0];
    if (!b?.version) throw new Error(`${file}: provider "${address}" has no version`);
    out.set(address, { address, version: b.version, ...(b.constraints ? { constraints: b.constraints } : {}), hashes: b.hashes ?? [] });
  }
  return out;
}

type Version = [number, number, number];

function parseVersion(v: string): Version {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(v.trim());
  if (!m) throw new Error(`not a version: ${JSON.stringify(v)}`);
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return 0;
}

/**
 * Whether `version` meets a Terraform constraint string ("~> 2.30", ">= 2.4.0, < 3.0.0", "= 0.13.1"): every
 * comma-separated part must hold; `~> X.Y` allows >= X.Y and < (X+1).0, `~> X.Y.Z` allows >= X.Y.Z and < X.(Y+1).0.
 */
export function satisfies(version: string, constraint: string): boolean {
  const v = parseVersion(version);
  return constraint.split(",").every((raw) => {
    const m = /^\s*(~>|>=|<=|!=|=|>|<)?\s*(\S+)\s*$/.exec(raw);
    if (!m) throw new Error(`not a version constraint: ${JSON.stringify(raw)}`);
    const op = m[1] ?? "=";
    const target = parseVersion(m[2] as string);
    const c = compare(v, target);
    switch (op) {
      case "=":
        return c === 0;
      case "!=":
        return c !== 0;
      case ">":
        return c > 0;
      case ">=":
        return c >= 0;
      case "<":
        return c < 0;
      case "<=":
        return c <= 0;
      default: {
        // "~>": the rightmost given component may grow. Count the components the constraint spelt out.
        const parts = (m[2] as string).replace(/^v/, "").split(".").length;
        const upper: Version = parts >= 3 ? [target[0], target[1] + 1, 0] : [target[0] + 1, 0, 0];
        return c >= 0 && compare(v, upper) < 0;
      }
    }
  });
}

// What an uploaded template archive declares that the simulator acts on, read once when a template version
// is created (sim/routes/template-writes.ts): the `coder_workspace_preset` blocks (prebuilds), a
// `coder_external_agent` and `coder_app` slugs (the workspaces' resources), and the `data "coder_parameter"`
// blocks (dynamic parameters). A regex reading of HCL: enough for the archives the load types upload.
import { untarFiles } from "../../src/util/tar.ts";

/** Regular files of a ustar archive by path ("./" dropped); a zip or a damaged archive yields what it can. */
export function archiveFiles(data: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [name, body] of untarFiles(data)) out.set(name.replace(/^\.\//, ""), body);
  return out;
}

export interface ParamSpec {
  name: string;
  displayName: string;
  description: string;
  type: string;
  formType: string;
  mutable: boolean;
  order: number;
  /** Literal default, or null when it is an expression. */
  default: string | null;
  /** Literal option values (empty: free input). */
  options: string[];
}

/** The parameters an archive declares (`data "coder_parameter"` blocks of every .tf file). */
export function parametersOf(files: Map<string, Buffer>): ParamSpec[] {
  const out: ParamSpec[] = [];
  for (const [path, data] of files) {
    if (!path.endsWith(".tf")) continue;
    const text = data.toString("utf8");
    const re = /data\s+"coder_parameter"\s+"([A-Za-z0-9_-]+)"\s*\{/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text))) {
      // The block: up to the matching closing brace.
      let depth = 1;
      let i = re.lastIndex;
      while (i < text.length && depth > 0) {
        if (text[i] === "{") depth++;
        else if (text[i] === "}") depth--;
        i++;
      }
      const body = text.slice(re.lastIndex, i - 1);
      const top = body.replace(/\{[^{}]*\}/g, ""); // attributes outside nested blocks
      const attr = (k: string): string | null => {
        const a = new RegExp(`^\\s*${k}\\s*=\\s*"((?:[^"\\\\]|\\\\.)*)"\\s*$`, "m").exec(top);
        return a ? a[1]!.replace(/\\"/g, '"') : null;
      };
      const raw = (k: string): string | null => new RegExp(`^\\s*${k}\\s*=\\s*(.+?)\\s*$`, "m").exec(top)?.[1] ?? null;
      const options: string[] = [];
      for (const o of body.matchAll(/option\s*\{([^{}]*)\}/g)) {
        const v = /value\s*=\s*"([^"$]*)"/.exec(o[1]!);
        if (v) options.push(v[1]!);
      }
      out.push({
        name: attr("name") ?? m[1]!,
        displayName: attr("display_name") ?? "",
        description: attr("description") ?? "",
        type: attr("type") ?? "string",
        formType: attr("form_type") ?? "",
        mutable: raw("mutable") === "true",
        order: Number(raw("order") ?? 0) || 0,
        default: attr("default"),
        options,
      });
    }
  }
  return out.sort((a, b) => a.order - b.order || (a.name < b.name ? -1 : 1));
}

/** What a main.tf declares that the simulator acts on. */
export function parseMainTf(tf: string): { presets: { name: string; instances: number }[]; externalAgent: boolean; apps: string[] } {
  const presets: { name: string; instances: number }[] = [];
  for (const m of tf.matchAll(/data\s+"coder_workspace_preset"\s+"[^"]+"\s*\{([\s\S]*?)\n\}/g)) {
    const body = m[1] ?? "";
    const count = /\bcount\s*=\s*(\d+)/.exec(body);
    const instances = Number(/instances\s*=\s*(\d+)/.exec(body)?.[1] ?? "0");
    const name = /\bname\s*=\s*"([^"]*)"/.exec(body)?.[1] ?? "preset";
    const n = count ? Number(count[1]) : 1;
    for (let i = 0; i < n; i++) presets.push({ name: name.replace("${count.index + 1}", String(i + 1)).replace("${count.index}", String(i)), instances });
  }
  const apps = [...tf.matchAll(/resource\s+"coder_app"\s+"[^"]+"\s*\{[\s\S]*?\bslug\s*=\s*"([^"]+)"/g)].map((m) => m[1]!);
  return { presets, externalAgent: /resource\s+"coder_external_agent"/.test(tf), apps };
}


// The template every dynamic-parameters version is made of, as Coder's tool prepares it: a main.tf whose
// parameters depend on each other (a `zero` dropdown drives the options of the next levels, one level
// through a local module) plus the module and Terraform's modules.json, so the server's evaluation walks a
// module too. Each copy carries a random string, making every version distinct (no cache shared between
// the partitions). Our own text, with the same shape as Coder's.
import { randomBytes } from "node:crypto";
import { tarFiles } from "../util/tar.ts";

/** The parameter every session checks for and then changes (Coder's runner: `zero` -> "B"). */
export const EXPECTED_PARAMETER = "zero";
export const CHANGED_VALUE = "B";

export function mainTf(cacheBuster: string): string {
  return `# scaletest dynamic-parameters template; cache buster (each version distinct): ${cacheBuster}
terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

data "coder_workspace_owner" "me" {}

locals {
  level_one = {
    "A" = ["A1", "A2"]
    "B" = ["B1", "B2"]
  }
}

data "coder_parameter" "zero" {
  name         = "zero"
  display_name = "Starting point"
  description  = "Choose A or B, ${"$"}{data.coder_workspace_owner.me.name}; the next levels follow it."
  form_type    = "dropdown"
  mutable      = true
  default      = "A"
  option {
    name  = "A"
    value = "A"
  }
  option {
    name  = "B"
    value = "B"
  }
}

data "coder_parameter" "first" {
  name         = "first"
  display_name = "First level"
  type         = "list(string)"
  form_type    = "multi-select"
  order        = 2
  mutable      = true
  default      = jsonencode([local.level_one[data.coder_parameter.zero.value][0]])
  dynamic "option" {
    for_each = local.level_one[data.coder_parameter.zero.value]
    content {
      name  = option.value
      value = option.value
    }
  }
}

module "second" {
  source      = "./modules/second"
  first_value = data.coder_parameter.first.value
}

data "coder_parameter" "third" {
  name         = "third"
  display_name = "Third level"
  type         = "string"
  form_type    = "radio"
  order        = 4
  mutable      = true
  default      = "${"$"}{module.second.value}-x"
  option {
    name  = "${"$"}{module.second.value}-x"
    value = "${"$"}{module.second.value}-x"
  }
  option {
    name  = "${"$"}{module.second.value}-y"
    value = "${"$"}{module.second.value}-y"
  }
}
`;
}

export const MODULE_TF = `variable "first_value" {
  type = string
}

data "coder_parameter" "second" {
  name         = "second"
  display_name = "Second level"
  type         = "string"
  form_type    = "textarea"
  order        = 3
  mutable      = true
  default      = trim(var.first_value, "[\\"]")
}

output "value" {
  value = data.coder_parameter.second.value
}
`;

export const MODULES_JSON = JSON.stringify({
  Modules: [
    { Key: "", Source: "", Dir: "." },
    { Key: "second", Source: "./modules/second", Dir: "modules/second" },
  ],
});

/** One distinct copy of the template as a tar archive (main.tf, the module, .terraform/modules/modules.json). */
export function templateArchive(cacheBuster = randomBytes(6).toString("hex")): Buffer {
  return tarFiles({
    "main.tf": mainTf(cacheBuster),
    "modules/second/main.tf": MODULE_TF,
    ".terraform/modules/modules.json": MODULES_JSON,
  });
}

/**
 * Coder's partitioning of --concurrent-evaluations: halves, rounding up, until nothing is left
 * (100 -> 50, 25, 13, 6, 3, 2, 1). One template version per part.
 */
export function partitionEvaluations(total: number): number[] {
  const parts: number[] = [];
  let remaining = Math.max(0, Math.floor(total));
  while (remaining > 0) {
    const next = Math.min(remaining, Math.ceil(remaining / 2));
    parts.push(next);
    remaining -= next;
  }
  return parts;
}

// The template Coder's prebuilds load type pushes (scaletest/prebuilds/tf/main.tf.tpl): a null_resource
// and `numPresets` presets named preset-<i>, each asking for `instances` prebuilt workspaces. The drain
// pushes the same template with no preset.
import { tarFiles } from "../util/tar.ts";

export function prebuildsMainTf(numPresets: number, instances: number): string {
  return `terraform {
  required_providers {
    coder = {
      source  = "coder/coder"
      version = "2.5.3"
    }
  }
}

resource "null_resource" "workspace" {}

data "coder_workspace_preset" "presets" {
  count = ${numPresets}
  name  = "preset-\${count.index + 1}"
  prebuilds {
    instances = ${instances}
  }
}
`;
}

export function prebuildsTemplateTar(numPresets: number, instances: number): Buffer {
  return tarFiles({ "main.tf": prebuildsMainTf(numPresets, instances) });
}

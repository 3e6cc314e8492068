// Fanning traffic out over several runner pods (Kubernetes Indexed Jobs).
import { int, str } from "../setting.ts";

export const scaleOutSettings = {
  runners: int({
    group: "scale-out",
    env: "SCALETEST_RUNNERS",
    flag: "runners",
    scripts: ["run"],
    default: 1,
    min: 1,
    max: 100,
    help: "Runner pods that share each traffic phase (>1 starts a Kubernetes Indexed Job per phase).",
  }),
  namespace: str({
    group: "scale-out",
    env: "SCALETEST_NAMESPACE",
    flag: "namespace",
    scripts: ["run"],
    default: "coder-big",
    help: "Kubernetes namespace of the runner (where scale-out Jobs are created).",
  }),
  runnerImage: str({
    group: "scale-out",
    env: "SCALETEST_RUNNER_IMAGE",
    flag: "runner-image",
    scripts: ["run"],
    default: "",
    help: "Container image for scale-out pods (the template sets the runner's own image).",
  }),
} as const;

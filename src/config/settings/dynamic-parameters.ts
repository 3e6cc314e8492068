// The dynamic-parameters load type (Coder's `coder exp scaletest dynamic-parameters`): concurrent sessions
// on the template-version dynamic-parameters websocket (the workspace-creation form's evaluation).
import { bool, duration, int, list, str } from "../setting.ts";

const DP = ["dynamic-parameters", "run"] as const;

export const dynamicParametersSettings = {
  dpPhase: bool({
    group: "traffic",
    env: "SCALETEST_DYNAMIC_PARAMETERS",
    flag: "dynamic-parameters",
    scripts: ["run"],
    default: false,
    help: "Run the dynamic-parameters load type as a phase after the load scenarios: concurrent evaluations of a scale-test template's parameters.",
  }),
  dpConcurrentEvaluations: int({
    group: "traffic",
    env: "SCALETEST_DYNAMIC_PARAMETERS_CONCURRENT_EVALUATIONS",
    flag: "dynamic-parameters-concurrent-evaluations",
    scriptFlags: { "dynamic-parameters": "concurrent-evaluations" },
    scripts: DP,
    default: 100,
    min: 1,
    max: 10000,
    help: "Concurrent dynamic-parameters evaluations, split into halving partitions with one template version each (Coder's rule).",
  }),
  dpTemplate: str({
    group: "traffic",
    env: "SCALETEST_DYNAMIC_PARAMETERS_TEMPLATE",
    flag: "dynamic-parameters-template",
    scriptFlags: { "dynamic-parameters": "template" },
    scripts: DP,
    default: "scaletest-dynamic-parameters",
    help: "Template (name, starting scaletest-) that receives the versions; created when missing.",
  }),
  dpProvisionerTags: list({
    group: "traffic",
    env: "SCALETEST_DYNAMIC_PARAMETERS_PROVISIONER_TAGS",
    flag: "dynamic-parameters-provisioner-tag",
    scriptFlags: { "dynamic-parameters": "provisioner-tag" },
    scripts: DP,
    default: [],
    help: "Provisioner tag key=value for the version imports (repeatable).",
  }),
  dpTimeout: duration({
    group: "traffic",
    env: "SCALETEST_DYNAMIC_PARAMETERS_TIMEOUT",
    flag: "dynamic-parameters-timeout",
    scriptFlags: { "dynamic-parameters": "timeout" },
    scripts: DP,
    default: "30m",
    min: "1s",
    max: "24h",
    help: "Limit for the whole load type (setup and sessions); sessions still open then fail.",
  }),
  dpJobTimeout: duration({
    group: "traffic",
    env: "SCALETEST_DYNAMIC_PARAMETERS_JOB_TIMEOUT",
    flag: "dynamic-parameters-job-timeout",
    scriptFlags: { "dynamic-parameters": "job-timeout" },
    scripts: DP,
    default: "5m",
    min: "100ms",
    max: "24h",
    help: "Limit for one session: dial, initial evaluation, change and its response.",
  }),
  dpImportTimeout: duration({
    group: "traffic",
    env: "SCALETEST_DYNAMIC_PARAMETERS_IMPORT_TIMEOUT",
    flag: "dynamic-parameters-import-timeout",
    scriptFlags: { "dynamic-parameters": "import-timeout" },
    scripts: DP,
    default: "10m",
    min: "1s",
    max: "24h",
    help: "How long the prepared template versions may take to import before the load type fails.",
  }),
} as const;

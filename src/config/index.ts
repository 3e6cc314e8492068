// Configuration: one schema, loaded from flags, environment and .env.
export { parseDuration, formatDuration } from "./duration.ts";
export { SCRIPTS, type ScriptName, type Setting } from "./setting.ts";
export { SETTINGS, settingEntries, type Config, type SettingKey } from "./schema.ts";
export { SCENARIOS, type ScenarioName } from "./settings/pipeline.ts";
export { ConfigError, HelpShown, loadConfig, publicConfig, flagFor, type Loaded, type LoadOptions } from "./load.ts";
export { settingsMarkdown, flagsOf } from "./docs.ts";
import { BAD_INPUT_EXIT_CODE } from "../util/errors.ts";
import { ConfigError, HelpShown, loadConfig, type Loaded, type LoadOptions } from "./load.ts";
import type { ScriptName } from "./setting.ts";

/**
 * For entry points: loads the configuration or prints one clear error and exits with status 2
 * (before anything is created). `--help` prints the flags and exits 0.
 */
export function loadConfigOrExit(script: ScriptName, argv = process.argv.slice(2), opts: LoadOptions = {}): Loaded {
  try {
    return loadConfig(script, argv, opts);
  } catch (e) {
    if (e instanceof HelpShown) process.exit(0);
    if (e instanceof ConfigError) {
      process.stderr.write(`${script}: ${e.message}\nRun with --help to see every setting.\n`);
      process.exit(BAD_INPUT_EXIT_CODE);
    }
    throw e;
  }
}

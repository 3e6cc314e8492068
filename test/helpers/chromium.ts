// Shared by every test that drives a real headless Chromium (dashboard browser mode, report rendering).
// Chromium comes from Debian (`apt-get install -y chromium`; .ci/run installs it). Under CI=true a missing
// Chromium fails the test; elsewhere the test is skipped with a message saying how to install it.
import { existsSync } from "node:fs";
import type { TestContext } from "node:test";

export const CHROMIUM_PATH = process.env["SCALETEST_CHROMIUM_PATH"] || "/usr/bin/chromium";

export const CHROMIUM_MISSING = `Chromium not found at ${CHROMIUM_PATH}: install it with \`apt-get install -y chromium\``;

/**
 * The Chromium path, or undefined after marking the test skipped (CI=true: throws instead, so CI cannot pass
 * without exercising the browser). Usage: `const chromium = requireChromium(t); if (!chromium) return;`
 */
export function requireChromium(t: TestContext): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  if (process.env["CI"] === "true") throw new Error(`${CHROMIUM_MISSING} (CI=true requires it)`);
  t.skip(CHROMIUM_MISSING);
  return undefined;
}

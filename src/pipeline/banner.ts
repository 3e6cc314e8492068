// A banner warns the deployment's users while the test runs; the previous appearance is restored after.
// Deployments whose licence has no appearance API (403/404) are skipped with a warning.
import type { CoderClient } from "../coder/index.ts";
import { CoderApiError } from "../coder/errors.ts";
import type { AppearanceConfig, BannerConfig } from "../coder/types.ts";
import { log } from "../util/log.ts";

export const RUNNING_COLOR = "#D65D0F";

export interface BannerHandle {
  /** Whether the banner was set (false: skipped or failed). */
  readonly active: boolean;
  /** Shows a different message (e.g. "cleaning up"), keeping the previous banners. */
  update(message: string): Promise<void>;
  /** Restores the banners that were there before. Never throws. */
  restore(): Promise<void>;
}

function withoutOurs(banners: BannerConfig[] | undefined, marker: string): BannerConfig[] {
  return (banners ?? []).filter((b) => !(b.message ?? "").includes(marker));
}

export async function showRunBanner(client: CoderClient, runId: string, message: string): Promise<BannerHandle> {
  const marker = `[scaletest ${runId}]`;
  let previous: AppearanceConfig;
  try {
    previous = await client.getAppearance();
  } catch (e) {
    const status = e instanceof CoderApiError ? e.status : 0;
    log.warn(
      status === 403 || status === 404
        ? "service banner skipped: this deployment has no appearance API (needs a Premium licence)"
        : `service banner skipped: could not read the appearance (${(e as Error).message})`,
    );
    return { active: false, update: async () => {}, restore: async () => {} };
  }
  const kept = withoutOurs(previous.announcement_banners, marker);
  const set = async (text: string): Promise<boolean> => {
    try {
      await client.updateAppearance({
        application_name: previous.application_name,
        logo_url: previous.logo_url,
        service_banner: previous.service_banner,
        announcement_banners: [...kept, { enabled: true, message: `${marker} ${text}`, background_color: RUNNING_COLOR }],
      });
      return true;
    } catch (e) {
      log.warn(`service banner not set (the run goes on): ${(e as Error).message}`);
      return false;
    }
  };
  const active = await set(message);
  return {
    active,
    update: async (text) => {
      if (active) await set(text);
    },
    restore: async () => {
      if (!active) return;
      try {
        await client.updateAppearance({
          application_name: previous.application_name,
          logo_url: previous.logo_url,
          service_banner: previous.service_banner,
          announcement_banners: kept,
        });
      } catch (e) {
        log.warn(`could not restore the previous service banner: ${(e as Error).message}`);
      }
    },
  };
}

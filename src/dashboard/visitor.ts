/**
 * The loop of one virtual user, shared by both modes: land on /workspaces, then keep visiting a random page it
 * may see (its targets chosen from what earlier pages showed), pausing between views, until the deadline or
 * the stop signal. The mode supplies `visit`, which loads one page and records it.
 */
import { LANDING_PAGE, pagesFor, type PageDef, type PageName, type PageState, type PageTarget } from "./pages.ts";
import { sleep } from "../util/sleep.ts";

export interface VisitorOptions {
  owner: boolean;
  /** Only these pages (default: every page the user may see). */
  only?: readonly PageName[];
  state: PageState;
  /** Absolute time (ms since epoch) after which no new page view starts. */
  deadline: number;
  signal: AbortSignal;
  /** Pause before the next view (ms). */
  pause: () => number;
  random: () => number;
  visit: (page: PageDef, target: PageTarget) => Promise<void>;
}

export async function runVisitor(opts: VisitorOptions): Promise<void> {
  const only = opts.only;
  const pages = pagesFor(opts.owner).filter((p) => !only || only.includes(p.name));
  if (pages.length === 0) return;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(opts.random() * items.length)] as T;
  let first = true;
  while (!opts.signal.aborted && Date.now() < opts.deadline) {
    // Every session starts where Coder's dashboard lands ("/" -> /workspaces), when that page is selected.
    const choice = first ? pages.find((p) => p.name === LANDING_PAGE) : undefined;
    first = false;
    const candidates = choice ? [choice] : pages;
    // A page whose target is unknown yet (no workspace seen) is skipped for another.
    let page: PageDef | undefined;
    let target: PageTarget | undefined;
    for (let tries = 0; tries < 8 && !target; tries++) {
      page = pick(candidates);
      target = page.target(opts.state, pick);
    }
    if (page && target) await opts.visit(page, target);
    if (opts.signal.aborted) return;
    const wait = Math.min(Math.max(0, opts.pause()), Math.max(0, opts.deadline - Date.now()));
    if (wait > 0) await sleep(wait, opts.signal);
  }
}

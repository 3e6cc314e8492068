/**
 * What browser mode clicks and what it waits for: Coder's own dashboard runner's default target list
 * (coder/coder scaletest/dashboard/chromedp.go `defaultTargets`), selectors of Coder's real UI (site/src/...).
 * Each tick the runner collects every target with at least one matching element on the current page, picks one
 * element per target and then one target at random, clicks it and waits for the `waitFor` element: the page it
 * opened has rendered. Nothing here is a marker of ours; a page that lacks the element is a failed view.
 *
 * Where the element comes from in Coder's UI:
 * - `tbody.MuiTableBody-root`: the MUI table body of the list pages (Coder waits for it after landing on "/").
 * - `tr[role="button"][data-testid^="workspace-"]`: WorkspacesTable rows (useClickableTableRow sets role=button).
 * - `tr[role="button"][data-testid^="build-"]`: the workspace page's builds table (BuildRow, a TimelineEntry row).
 * - `*[aria-label="Build details"]`: the build page's Stats (WorkspaceBuildPageView).
 * - `tr[role="button"][data-testid^="template-"]`: TemplatesPageView rows.
 * - `a[href^="/templates/"][href$="/docs"]` etc.: TemplateLayout's tab links (the active one has aria-current).
 * - `#readme`: TemplateDocsPage; `.monaco-editor`: the source viewer of TemplateFilesPage and TemplateVersionPage.
 * - `tr[role="button"][data-testid^="version-"]`: VersionRow; `tr[data-testid^="user-"]`: UsersTable rows.
 * - `a[href^="/starter-templates/"]`: StarterTemplatesPage cards.
 */

export interface BrowserTarget {
  /** Coder's action label: the `action` label of the coderd_scaletest_dashboard_* series. */
  action: string;
  /** Our name of the page the click opens (per-page results; the API mode's names where the page is the same). */
  page: string;
  /** CSS selector of the elements to click (one is chosen at random). */
  clickOn: string;
  /** CSS selector of the element that shows the opened page has rendered. */
  waitFor: string;
}

/** Where every browser session starts, as Coder's runner: "/" (the workspaces list) until its table body shows. */
export const LANDING_TARGET: BrowserTarget = {
  action: "workspace_list",
  page: "workspaces",
  clickOn: "",
  waitFor: "tbody.MuiTableBody-root",
};

/**
 * Coder's default targets, in Coder's order (the order is part of the random draws, so a seed picks the same
 * clicks as Coder's runner would on the same page). Two changes, both so every page in the list can be reached
 * and judged fairly:
 * - `template_files` clicks the Source Code tab (`.../files`); Coder's list clicks the Docs tab there and then
 *   waits for the source viewer, which the docs page never shows, so that action always failed.
 * - `template_details` (ours) clicks a templates-list row and waits for the template's tabs: no target of
 *   Coder's list leads to a template page, so its docs/files/versions targets could never be clicked.
 */
export const CODER_TARGETS: readonly BrowserTarget[] = [
  {
    action: "workspace_list",
    page: "workspaces",
    clickOn: 'nav a[href="/workspaces"]:not(.active)',
    waitFor: 'tr[role="button"][data-testid^="workspace-"]',
  },
  {
    action: "starter_templates",
    page: "starter-templates",
    clickOn: 'a[href="/starter-templates"]',
    waitFor: 'a[href^="/starter-templates/"]',
  },
  {
    action: "workspace_details",
    page: "workspace",
    clickOn: 'tr[role="button"][data-testid^="workspace-"]',
    waitFor: 'tr[role="button"][data-testid^="build-"]',
  },
  {
    action: "workspace_build_details",
    page: "workspace-build",
    clickOn: 'tr[role="button"][data-testid^="build-"]',
    waitFor: '*[aria-label="Build details"]',
  },
  {
    action: "template_list",
    page: "templates",
    clickOn: 'nav a[href="/templates"]:not(.active)',
    waitFor: 'tr[role="button"][data-testid^="template-"]',
  },
  {
    action: "template_docs",
    page: "template-docs",
    clickOn: 'a[href^="/templates/"][href$="/docs"]:not([aria-current])',
    waitFor: "#readme",
  },
  {
    action: "template_files",
    page: "template-files",
    clickOn: 'a[href^="/templates/"][href$="/files"]:not([aria-current])',
    waitFor: ".monaco-editor",
  },
  {
    action: "template_versions",
    page: "template-versions",
    clickOn: 'a[href^="/templates/"][href$="/versions"]:not([aria-current])',
    waitFor: 'tr[role="button"][data-testid^="version-"]',
  },
  {
    action: "template_version_details",
    page: "template-version",
    clickOn: 'tr[role="button"][data-testid^="version-"]',
    waitFor: ".monaco-editor",
  },
  {
    action: "user_list",
    page: "users",
    clickOn: 'nav a[href^="/users"]:not(.active)',
    waitFor: 'tr[data-testid^="user-"]',
  },
  {
    action: "template_details",
    page: "template",
    clickOn: 'tr[role="button"][data-testid^="template-"]',
    waitFor: 'a[href^="/templates/"][href$="/docs"]',
  },
];

/** Page names browser mode can record (the landing page and every target's page). */
export const BROWSER_PAGE_NAMES: readonly string[] = [...new Set([LANDING_TARGET.page, ...CODER_TARGETS.map((t) => t.page)])];

/** The targets whose page is one of `only` (all when undefined). */
export function browserTargets(only?: readonly string[]): BrowserTarget[] {
  return CODER_TARGETS.filter((t) => !only || only.includes(t.page));
}

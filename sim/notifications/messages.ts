// What coderd renders for the notification templates the simulator sends (coderd/notifications): the
// inbox row's title/content/actions and the email's subject and HTML body, whose footer links to
// `<base>/settings/notifications?disabled=<template id>` (Coder's SMTP mock finds the template id there).

/** coderd/notifications TemplateTemplateDeleted. */
export const TEMPLATE_TEMPLATE_DELETED = "29a09665-2a4c-403f-9648-54301670e7be";

/** codersdk.FallbackIconTemplate: coderd sets it on inbox rows of template notifications without an icon. */
export const FALLBACK_ICON_TEMPLATE = "DEFAULT_ICON_TEMPLATE";

export interface Rendered {
  title: string;
  /** Markdown, as coderd stores it; the watch endpoint's format=plaintext strips it. */
  content: string;
  actions: { label: string; url: string }[];
  icon: string;
}

export function renderTemplateDeleted(labels: { name: string; initiator: string }, baseUrl: string): Rendered {
  return {
    title: `Template "${labels.name}" deleted`,
    content: `The template **${labels.name}** was deleted by **${labels.initiator}**.\n\n`,
    actions: [{ label: "View templates", url: `${baseUrl}/templates` }],
    icon: FALLBACK_ICON_TEMPLATE,
  };
}

/** Markdown emphasis removed, as coderd's plaintext format does for the simple templates. */
export function plaintext(markdown: string): string {
  return markdown.replace(/\*\*(.*?)\*\*/g, "$1").replace(/\*(.*?)\*/g, "$1").trim();
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** The email coderd's SMTP dispatcher sends (subject = title; HTML body with the actions and the footer). */
export function renderEmail(r: Rendered, templateId: string, baseUrl: string, to: { name: string; email: string }): { subject: string; html: string; text: string } {
  const disable = `${baseUrl}/settings/notifications?disabled=${templateId}`;
  const body = escapeHtml(plaintext(r.content));
  const html =
    `<!doctype html><html><head><meta charset="UTF-8"><title>${escapeHtml(r.title)}</title></head>` +
    `<body style="font-family: sans-serif; font-size: 14px;"><div style="max-width: 600px; margin: 20px auto; padding: 60px;">` +
    `<h1 style="font-weight: 400; font-size: 24px;">${escapeHtml(r.title)}</h1>` +
    `<div style="line-height: 1.5;"><p>Hi ${escapeHtml(to.name || to.email)},</p><p>${body}</p></div>` +
    r.actions.map((a) => `<a href="${escapeHtml(a.url)}" style="display: inline-block; padding: 13px 24px;">${escapeHtml(a.label)}</a>`).join("") +
    `<div style="border-top: 1px solid #e2e8f0; color: #475569; font-size: 12px; margin-top: 64px; padding-top: 24px;">` +
    `<p>&copy;&nbsp;${new Date().getUTCFullYear()}&nbsp;Coder. All rights reserved - <a href="${baseUrl}" style="color: #2563eb; text-decoration: none;">${baseUrl}</a></p>` +
    `<p><a href="${disable}" style="color: #2563eb; text-decoration: none;">Stop receiving emails like this</a></p>` +
    `</div></div></body></html>`;
  const text = `${r.title}\n\n${plaintext(r.content)}\n\n${r.actions.map((a) => `${a.label}: ${a.url}`).join("\n")}\n\nStop receiving emails like this: ${disable}\n`;
  return { subject: r.title, html, text };
}

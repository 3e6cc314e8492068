// The SMTP sink (scripts/smtp-sink.ts, src/smtp-sink): mails sent over real SMTP are listed by recipient
// with the notification template id found in the decoded body as Coder's mock finds it (quoted-printable
// soft line breaks included), POST /purge empties it, oversized mails are refused, and the script prints
// where it listens.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import nodemailer, { type SendMailOptions } from "nodemailer";
import { findTemplateId, NIL_UUID, startSmtpSink } from "../src/smtp-sink/server.ts";

const ID = "29a09665-2a4c-403f-9648-54301670e7be";

async function send(address: string, port: number, mail: SendMailOptions): Promise<void> {
  const t = nodemailer.createTransport({ host: address, port, secure: false, ignoreTLS: true });
  try {
    await t.sendMail(mail);
  } finally {
    t.close();
  }
}

describe("smtp sink", () => {
  test("lists mails by recipient with the template id from the decoded body; purge empties it", async () => {
    const sink = await startSmtpSink({ host: "127.0.0.1" });
    try {
      // A long HTML line makes nodemailer encode quoted-printable with soft breaks inside the link.
      const pad = "x".repeat(200);
      await send("127.0.0.1", sink.smtpPort, {
        from: "coder@example.invalid",
        to: "Alice@Scaletest.Local",
        subject: 'Template "t" deleted',
        html: `<p>${pad}</p><p><a href="http://coder.example/settings/notifications?disabled=${ID}" style="color: #2563eb; text-decoration: none;">Stop receiving emails like this</a>${pad}</p>`,
        date: new Date("2026-01-02T03:04:05Z"),
      });
      await send("127.0.0.1", sink.smtpPort, { from: "coder@example.invalid", to: "bob@scaletest.local", subject: "no link", text: "hello" });
      const res = await fetch(`${sink.apiUrl}/messages?email=alice@scaletest.local`);
      assert.equal(res.status, 200);
      const list = (await res.json()) as { subject: string; date: string; notification_template_id: string; received_at: string }[];
      assert.equal(list.length, 1);
      assert.equal(list[0]!.subject, 'Template "t" deleted');
      assert.equal(list[0]!.notification_template_id, ID);
      assert.equal(list[0]!.date, "2026-01-02T03:04:05.000Z");
      assert.ok(Date.parse(list[0]!.received_at) > Date.parse(list[0]!.date));
      const bob = (await (await fetch(`${sink.apiUrl}/messages?email=bob@scaletest.local`)).json()) as { notification_template_id: string }[];
      assert.deepEqual(bob.map((m) => m.notification_template_id), [NIL_UUID]);
      // No email: every mail (Coder's mock does the same).
      assert.equal(((await (await fetch(`${sink.apiUrl}/messages`)).json()) as unknown[]).length, 2);
      assert.equal((await fetch(`${sink.apiUrl}/messages`, { method: "POST" })).status, 405);
      assert.equal((await fetch(`${sink.apiUrl}/purge`, { method: "POST" })).status, 200);
      assert.equal(sink.count(), 0);
    } finally {
      await sink.close();
    }
  });

  test("an oversized mail is refused and not stored; stored mails are purged past --purge-at-count", async () => {
    const sink = await startSmtpSink({ host: "127.0.0.1", maxMessageBytes: 4096, purgeAtCount: 1, purgeCheckMs: 20 });
    try {
      await assert.rejects(send("127.0.0.1", sink.smtpPort, { from: "a@b.invalid", to: "c@d.invalid", text: "y".repeat(10_000) }));
      assert.equal(sink.count(), 0);
      await send("127.0.0.1", sink.smtpPort, { from: "a@b.invalid", to: "c@d.invalid", text: "one" });
      await send("127.0.0.1", sink.smtpPort, { from: "a@b.invalid", to: "c@d.invalid", text: "two" });
      // Bounded wait for the purge check to run.
      const deadline = Date.now() + 10_000;
      while (sink.count() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(sink.count(), 0);
    } finally {
      await sink.close();
    }
  });

  test("Coder's regular expression: the id after notifications?disabled=, else the nil UUID", () => {
    assert.equal(findTemplateId(`<a href="https://c/settings/notifications?disabled=${ID}">`), ID);
    assert.equal(findTemplateId("notifications?disabled=not-a-uuid"), NIL_UUID);
    assert.equal(findTemplateId("nothing"), NIL_UUID);
  });

  test("scripts/smtp-sink.ts prints its addresses and serves until SIGTERM; bad flags exit non-zero", async () => {
    const root = fileURLToPath(new URL("..", import.meta.url));
    const bad = await execa(process.execPath, ["--import", "tsx", "scripts/smtp-sink.ts", "--smtp-port", "70000"], { cwd: root, reject: false, timeout: 60_000 });
    assert.notEqual(bad.exitCode, 0);
    assert.match(bad.stderr, /--smtp-port must be a port number/);
    const child = execa(process.execPath, ["--import", "tsx", "scripts/smtp-sink.ts", "--host-address", "127.0.0.1"], { cwd: root, reject: false, timeout: 60_000 });
    let out = "";
    const api = await new Promise<string>((resolve, reject) => {
      child.stdout!.on("data", (d: Buffer) => {
        out += String(d);
        const m = /SMTP_API_URL=(\S+)/.exec(out);
        if (m && /SMTP_ADDRESS=127\.0\.0\.1:\d+/.test(out)) resolve(m[1]!);
      });
      child.once("exit", () => reject(new Error(`exited early: ${out}`)));
    });
    const res = await fetch(`${api}/messages?email=x@y.invalid`);
    assert.deepEqual(await res.json(), []);
    child.kill("SIGTERM");
    const done = await child;
    assert.equal(done.exitCode, 0, done.stderr);
  });
});

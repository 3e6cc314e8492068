#!/usr/bin/env -S npx tsx
// The SMTP sink for the notifications load type (Coder's `coder exp scaletest smtp`): point the
// deployment's CODER_EMAIL_SMARTHOST at its SMTP address and the notifications scenario's
// --smtp-api-url at its API. Prints both, then serves until SIGINT/SIGTERM. Example:
//   ./scripts/smtp-sink.ts --host-address 127.0.0.1 --smtp-port 2525 --api-port 8025
import { Command, InvalidArgumentError } from "commander";
import { startSmtpSink } from "../src/smtp-sink/server.ts";

const port = (flag: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`${flag} must be a port number 0-65535 (0 = a free one); got ${v}`);
  return n;
};
const positive = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`--purge-at-count must be a positive integer; got ${v}`);
  return n;
};

const program = new Command("smtp-sink")
  .description("SMTP server that keeps every mail, with the HTTP API the notifications scenario polls (GET /messages?email=, POST /purge).")
  .option("--host-address <addr>", "address the SMTP server and the API listen on", "localhost")
  .option("--smtp-port <n>", "SMTP port (0 = a free one)", port("--smtp-port"), 0)
  .option("--api-port <n>", "HTTP API port (0 = a free one)", port("--api-port"), 0)
  .option("--purge-at-count <n>", "purge the stored mails when more than this many are kept (checked every 10 s)", positive, 100_000)
  .showHelpAfterError();
program.parse();
const o = program.opts<{ hostAddress: string; smtpPort: number; apiPort: number; purgeAtCount: number }>();

let sink;
try {
  sink = await startSmtpSink({
    host: o.hostAddress,
    smtpPort: o.smtpPort,
    apiPort: o.apiPort,
    purgeAtCount: o.purgeAtCount,
    log: (m) => process.stderr.write(`${m}\n`),
  });
} catch (e) {
  process.stderr.write(`smtp-sink: could not listen on ${o.hostAddress}: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
process.stdout.write(`SMTP_ADDRESS=${sink.smtpAddress}\nSMTP_API_URL=${sink.apiUrl}\n`);
process.stderr.write(`smtp-sink: SMTP on ${sink.smtpAddress}, API on ${sink.apiUrl}; Ctrl+C stops it\n`);
const stop = (sig: string): void => {
  process.stderr.write(`smtp-sink: ${sig} received, stopping\n`);
  void sink.close().then(() => process.exit(0));
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));

#!/usr/bin/env node
// A stand-in for the `coder` CLI, for tests against the simulator. It implements only
//   coder ssh --stdio [owner/]workspace[.agent]
// (the way ssh-traffic reaches an agent) and `coder version`. Like the real CLI it reads CODER_URL and
// CODER_SESSION_TOKEN from the environment; instead of Coder's tailnet it asks the simulator where the
// agent's SSH server is (sim-only GET /api/v2/_sim/ssh) and relays stdin/stdout to it.
// Node twin of ./coder (the bash one the tests use: much cheaper to start 50 at once).
// Written without imports (process.getBuiltinModule) so it starts fast and runs as CJS or ESM alike.
const net = process.getBuiltinModule("node:net");

function fail(msg, code = 1) {
  process.stderr.write(`error: ${msg}\n`);
  process.exit(code);
}

const args = process.argv.slice(2);
if (args[0] === "version" || args[0] === "--version") {
  process.stdout.write("Coder v2.24.1+sim-fake-cli\n");
  process.exit(0);
}
if (args[0] !== "ssh") fail(`fake coder supports only "ssh --stdio <workspace>" and "version", got: ${args.join(" ")}`, 2);
const rest = args.slice(1).filter((a) => a !== "--stdio");
if (!args.includes("--stdio") || rest.length !== 1 || rest[0].startsWith("-")) {
  fail("usage: coder ssh --stdio [owner/]workspace[.agent]", 2);
}
const target = rest[0];
const slash = target.indexOf("/");
const owner = slash >= 0 ? target.slice(0, slash) : "me";
const wsAgent = slash >= 0 ? target.slice(slash + 1) : target;
const dot = wsAgent.indexOf(".");
const workspace = dot >= 0 ? wsAgent.slice(0, dot) : wsAgent;
const agent = dot >= 0 ? wsAgent.slice(dot + 1) : "";

const base = process.env.CODER_URL;
const token = process.env.CODER_SESSION_TOKEN;
if (!base) fail("CODER_URL is not set: log in with `coder login` or set CODER_URL");
if (!token) fail("CODER_SESSION_TOKEN is not set: log in with `coder login` or set CODER_SESSION_TOKEN");

async function main() {
  const url = new URL(`${base.replace(/\/+$/, "")}/api/v2/_sim/ssh`);
  url.searchParams.set("owner", owner);
  url.searchParams.set("workspace", workspace);
  if (agent) url.searchParams.set("agent", agent);
  let res;
  try {
    res = await fetch(url, { headers: { "Coder-Session-Token": token } });
  } catch (e) {
    fail(`query workspace ${target}: ${e.cause?.code ?? e.message}`);
  }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) fail(`workspace ${target}: ${body.message ?? res.statusText}${body.detail ? `: ${body.detail}` : ""}`);

  const sock = net.connect({ host: body.host, port: body.port });
  sock.setNoDelay(true);
  sock.on("error", (e) => fail(`dial agent: ${e.code ?? e.message}`));
  sock.write(`${body.agent_id}\n`);
  process.stdin.pipe(sock);
  sock.pipe(process.stdout);
  // The SSH client closing our stdin ends the tunnel; the agent closing ends us.
  process.stdin.on("end", () => sock.end());
  sock.on("close", () => process.exit(0));
  process.on("SIGTERM", () => {
    sock.destroy();
    process.exit(0);
  });
}
main();

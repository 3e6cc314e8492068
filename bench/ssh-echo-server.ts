/**
 * The SSH cost benchmark's far end (bench/ssh-cost.ts): an ssh2 server on loopback, in its own process so its
 * CPU is never charged to the client measured, that accepts any auth (as Coder's agent does behind the
 * tailnet) and runs the workspace-traffic command `dd if=/dev/stdin of=/dev/stdout bs=N status=none` by
 * echoing stdin, ending it on SIGHUP or stdin EOF. Started with fork(); sends { port } once listening,
 * exits on { cmd: "exit" } or when the parent goes.
 */
import { generateKeyPairSync } from "node:crypto";
import type { AddressInfo } from "node:net";
import ssh2 from "ssh2";

const hostKey = generateKeyPairSync("ec", {
  namedCurve: "prime256v1",
  privateKeyEncoding: { type: "sec1", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" },
}).privateKey;

const server = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
  client.on("error", () => client.end());
  client.on("authentication", (ctx) => ctx.accept());
  client.on("ready", () => {
    client.on("session", (acceptSession) => {
      const session = acceptSession();
      session.on("exec", (accept) => {
        const ch = accept();
        const end = (signal?: string): void => {
          if (ch.destroyed || ch.writableEnded) return;
          if (signal) ch.exit(signal, false, "");
          else ch.exit(0);
          ch.end();
        };
        ch.on("error", () => ch.destroy());
        ch.on("data", (d: Buffer) => {
          if (!ch.write(d)) ch.pause();
        });
        ch.on("drain", () => ch.resume());
        ch.on("end", () => end());
        session.on("signal", (acc, _rej, info) => {
          acc?.();
          end(info.name);
        });
      });
    });
  });
});
server.listen(0, "127.0.0.1", () => process.send!({ port: (server.address() as AddressInfo).port }));
process.on("message", (m: { cmd?: string }) => {
  if (m.cmd === "exit") process.exit(0);
});
process.on("disconnect", () => process.exit(0));

/** Parent side of the echo server process (bench/echo-server.ts). */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { pinProcess } from "./pin.ts";
import type { EchoReport } from "./workload.ts";

const SERVER = fileURLToPath(new URL("../echo-server.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export class EchoServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  /** `cpus`: a taskset CPU list to pin the server to (bench/lib/pin.ts), or "" to leave it unpinned. */
  static async start(cpus = ""): Promise<EchoServer> {
    const child = fork(SERVER, [], { cwd: ROOT, execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    if (cpus) {
      try {
        pinProcess(child.pid!, cpus);
      } catch (e) {
        child.kill();
        throw e;
      }
    }
    const port = await new Promise<number>((resolve, reject) => {
      child.once("message", (m) => resolve((m as { port: number }).port));
      child.once("exit", (code) => reject(new Error(`echo server exited with ${code} before listening`)));
    });
    return new EchoServer(child, port);
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/`;
  }

  get pid(): number {
    return this.child.pid!;
  }

  private ask<T>(msg: object): Promise<T> {
    return new Promise<T>((resolve) => {
      this.child.once("message", (m) => resolve(m as T));
      this.child.send(msg);
    });
  }

  async reset(expect: number): Promise<void> {
    await this.ask({ cmd: "reset", expect });
  }

  report(): Promise<EchoReport> {
    return this.ask<EchoReport>({ cmd: "report" });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once("exit", () => r()));
    this.child.send({ cmd: "exit" });
    await exited;
  }
}

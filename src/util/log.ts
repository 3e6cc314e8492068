// A small leveled logger. Every line is "<ISO timestamp> <LEVEL> <message>", goes to stderr
// (stdout stays free for results), is passed through `redact`, and can be teed to files so each
// pipeline phase keeps its own phase.log. Debug lines appear only when verbose is on (--verbose).
import { closeSync, mkdirSync, writeSync } from "node:fs";
import { openAppendNoFollow } from "./nofollow.ts";
import { recordWriteFault } from "./write-faults.ts";
import { dirname } from "node:path";
import { format } from "node:util";
import { redact } from "./redact.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";

/** How load types take a logger: one function with the level as an argument (Logger.atLevel is one). */
export type LogFn = (level: LogLevel, msg: string) => void;

/** Lets a live progress line get out of the way while a log line is written (see progress.ts). */
export interface OutputHook {
  before(): void;
  after(): void;
}

interface Sink {
  fd: number;
  path: string;
}

const LABELS: Record<LogLevel, string> = { debug: "DEBUG", info: "INFO ", warn: "WARN ", error: "ERROR" };

export class Logger {
  private verbose = false;
  private stream: NodeJS.WritableStream = process.stderr;
  private sinks: Sink[] = [];
  private hook: OutputHook | null = null;

  constructor(private readonly prefix = "", private readonly parent?: Logger) {}

  /** Enables (or disables) debug lines. */
  setVerbose(on: boolean): void {
    this.root().verbose = on;
  }

  isVerbose(): boolean {
    return this.root().verbose;
  }

  /** Where terminal lines go (default process.stderr). */
  setStream(stream: NodeJS.WritableStream): void {
    this.root().stream = stream;
  }

  /** Installs (or removes with null) the hook a live progress line uses. */
  setOutputHook(hook: OutputHook | null): void {
    this.root().hook = hook;
  }

  /**
   * Also appends every line (debug lines only when verbose) to `path`, creating parent folders.
   * Returns a function that stops the tee and closes the file.
   */
  toFile(path: string): () => void {
    const root = this.root();
    let fd: number;
    try {
      mkdirSync(dirname(path), { recursive: true });
      fd = openAppendNoFollow(path);
    } catch (e) {
      // A full disk or a symlink where the log should be: counted, and the run goes on without this file.
      recordWriteFault(path, e);
      return () => {};
    }
    const sink: Sink = { fd, path };
    root.sinks.push(sink);
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      root.sinks = root.sinks.filter((s) => s !== sink);
      closeSync(sink.fd);
    };
  }

  /** A logger whose lines start with `[prefix]`, sharing this one's settings and files. */
  child(prefix: string): Logger {
    return new Logger(this.prefix ? `${this.prefix} ${prefix}` : prefix, this.root());
  }

  debug(...args: unknown[]): void {
    this.write("debug", args);
  }
  info(...args: unknown[]): void {
    this.write("info", args);
  }
  warn(...args: unknown[]): void {
    this.write("warn", args);
  }
  error(...args: unknown[]): void {
    this.write("error", args);
  }

  /** One line at `level`; bound, so it can be handed on as a LogFn (`{ log: ctx.log.atLevel }`). */
  readonly atLevel: LogFn = (level, msg) => this.write(level, [msg]);

  private root(): Logger {
    return this.parent ?? this;
  }

  private write(level: LogLevel, args: unknown[]): void {
    const root = this.root();
    if (level === "debug" && !root.verbose) return;
    const msg = format(...args);
    const body = this.prefix ? `[${this.prefix}] ${msg}` : msg;
    const line = redact(`${new Date().toISOString()} ${LABELS[level]} ${body}`) + "\n";
    root.hook?.before();
    try {
      root.stream.write(line);
    } finally {
      root.hook?.after();
    }
    for (const sink of root.sinks) {
      try {
        writeSync(sink.fd, line);
      } catch (e) {
        // A full disk must not end the run (the terminal still has the line): counted, never hidden.
        recordWriteFault(sink.path, e);
      }
    }
  }
}

/** The process-wide logger. */
export const log = new Logger();

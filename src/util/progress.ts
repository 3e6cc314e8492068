// Live progress for long work. On a TTY: one line redrawn in place (log-update), kept below any
// log lines written meanwhile. Otherwise (CI, files, the workspace's startup log): a plain log
// line every `intervalMs`. The caller renders the text; timers are unref'd so progress never
// keeps the process alive.
import { createLogUpdate } from "log-update";
import { log as defaultLog, type Logger } from "./log.ts";
import { redact } from "./redact.ts";

export interface ProgressOptions {
  /** Shown before the text, e.g. "create-workspaces". */
  label: string;
  /** Non-TTY: how often to print a line (default 10 s). */
  intervalMs?: number;
  /** TTY: how often to redraw the live line (default 250 ms). */
  redrawMs?: number;
  /** Stream to draw on; TTY mode only if it is a TTY (default process.stderr). */
  stream?: NodeJS.WriteStream | NodeJS.WritableStream;
  /** Force TTY (live line) or plain mode regardless of the stream. */
  tty?: boolean;
  /** Logger used for plain lines and the final line (default: the process logger). */
  logger?: Logger;
}

export type ProgressText = string | (() => string);

export interface Progress {
  /** Sets the text (or a function rendering it on each redraw/print). */
  update(text: ProgressText): void;
  /** Stops the progress and logs `finalText` (or the last text) once. */
  done(finalText?: string): void;
}

export function startProgress(opts: ProgressOptions): Progress {
  const logger = opts.logger ?? defaultLog;
  const stream = opts.stream ?? process.stderr;
  const tty = opts.tty ?? Boolean((stream as NodeJS.WriteStream).isTTY);
  let text: ProgressText = "";
  let finished = false;

  const render = (): string => {
    let body: string;
    try {
      body = typeof text === "function" ? text() : text;
    } catch (err) {
      body = `(progress renderer failed: ${err instanceof Error ? err.message : String(err)})`;
    }
    return `${opts.label}: ${body}`;
  };

  if (!tty) {
    const timer = setInterval(() => logger.info(render()), opts.intervalMs ?? 10_000);
    timer.unref();
    return {
      update(t) {
        text = t;
      },
      done(finalText) {
        if (finished) return;
        finished = true;
        clearInterval(timer);
        if (finalText !== undefined) text = finalText;
        logger.info(render());
      },
    };
  }

  const live = createLogUpdate(stream as NodeJS.WriteStream, { showCursor: true });
  const draw = () => live(redact(render()));
  // Log lines written meanwhile: clear the live line, let the log line print, redraw below it.
  logger.setOutputHook({ before: () => live.clear(), after: () => draw() });
  const timer = setInterval(draw, opts.redrawMs ?? 250);
  timer.unref();
  return {
    update(t) {
      text = t;
    },
    done(finalText) {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      logger.setOutputHook(null);
      live.clear();
      if (finalText !== undefined) text = finalText;
      logger.info(render());
    },
  };
}

// Ctrl-C and SIGTERM during a concurrent run: the first stops the run (no further stage starts,
// the workers are killed, everything made is dropped); a second, later one exits at once.
import { EXIT } from "../core/errors.ts";

/** A terminal signals the whole process group and the runner forwards what it gets, so one
 * Ctrl-C can arrive twice at once; a second press comes later than this. */
const SAME_PRESS_MS = 500;

export interface InterruptHandlers {
  /** The first signal: say so and stop what is running. */
  stop: (cause: string) => void;
  /** A second signal: the last words before the process exits without cleaning up. */
  forced: () => void;
}

export class Interrupts {
  private readonly controller = new AbortController();
  private first: { signal: NodeJS.Signals; at: number } | undefined;
  private readonly listener = (signal: NodeJS.Signals): void => this.interrupt(signal);

  constructor(private readonly handlers: InterruptHandlers) {}

  /** Aborted by the first signal. */
  get abortSignal(): AbortSignal {
    return this.controller.signal;
  }

  /** The first signal received, if any. */
  get signal(): NodeJS.Signals | undefined {
    return this.first?.signal;
  }

  /** The exit status of an interrupted run. */
  get exitCode(): number {
    return this.first?.signal === "SIGTERM" ? EXIT.sigterm : EXIT.sigint;
  }

  install(): void {
    process.on("SIGINT", this.listener);
    process.on("SIGTERM", this.listener);
  }

  remove(): void {
    process.off("SIGINT", this.listener);
    process.off("SIGTERM", this.listener);
  }

  /** A signal, or what stands for one (a worker's KeyboardInterrupt), with its cause. */
  interrupt(signal: NodeJS.Signals, cause: string = signal): void {
    if (this.first) {
      if (performance.now() - this.first.at < SAME_PRESS_MS) return;
      this.handlers.forced();
      process.exit(signal === "SIGINT" ? EXIT.sigint : EXIT.sigterm);
    }
    this.first = { signal, at: performance.now() };
    this.controller.abort();
    this.handlers.stop(cause);
  }
}

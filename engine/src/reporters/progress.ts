// Progress while the tests run. On a terminal: one live line at the bottom (done/total, failures
// so far, elapsed, ETA; each worker's current class at -v 2), redrawn in place, with the
// console's own output scrolling above it. Elsewhere (CI logs, pipes): a plain line every
// 30 seconds. Never both, and nothing at -v 0. The time left is shown only once there is a real
// estimate (see `remaining`): a first run without stored timings starts without one.
//
// The console writes through `write` here. At -v 1 its dots have no newline until the end, so
// on a terminal they are held and shown at the start of the live line, then written out whole
// when the line goes away: the finished output is exactly Django's.
import type { OutcomeEvent } from "../protocol/messages.ts";
import type { RunResults } from "../results/run-results.ts";

export type ProgressMode = "live" | "plain" | "off";

export interface Terminal {
  isTTY: boolean;
  columns(): number;
}

export interface ProgressSource {
  /** Tests the run will report. */
  total: number;
  /** Each slot's current class, for -v 2. */
  current(): { slot: number; label: string | null }[];
  /** Seconds until the end, if it can tell. */
  estimateRemaining(): number | undefined;
  /** Whether stored timings cover every class of the run: then that estimate holds from the start. */
  timed?: boolean;
}

export interface ProgressOptions {
  results: RunResults;
  verbosity: number;
  /** Where the console's text goes (stderr). */
  write: (text: string) => void;
  terminal?: Terminal;
  /** "auto" (default): live on a terminal, plain otherwise. */
  mode?: ProgressMode | "auto";
  /** Seconds between plain lines. */
  intervalSeconds?: number;
  now?: () => number;
}

const CLEAR_LINE = "\r\x1b[2K";
const DRAW_EVERY_MS = 100;
/** Without stored timings: the share of the tests left at the start that must finish before the
 * time left is extrapolated from them. */
const EXTRAPOLATE_AFTER = 0.1;

export function chooseMode(verbosity: number, mode: ProgressMode | "auto", terminal?: Terminal): ProgressMode {
  if (verbosity < 1 || mode === "off") return "off";
  if (mode !== "auto") return mode;
  return terminal?.isTTY ? "live" : "plain";
}

/** 75 → "1:15"; 3725 → "1:02:05". */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

export class ProgressReporter {
  readonly mode: ProgressMode;
  private readonly finishedTests = new Set<string>();
  private source?: ProgressSource;
  private startedAt = 0;
  /** Tests finished before start() (early, database-free classes): not part of the rate. */
  private doneAtStart = 0;
  private timer?: NodeJS.Timeout;
  /** Console text after its last newline (the -v 1 dots), held while the live line shows. */
  private partial = "";
  private drawn = false;
  private lastDraw = 0;
  private drawPending?: NodeJS.Timeout;
  /** Plain mode: whether the console's last text ended a line. */
  private atLineStart = true;
  private readonly now: () => number;

  constructor(private readonly opts: ProgressOptions) {
    this.mode = chooseMode(opts.verbosity, opts.mode ?? "auto", opts.terminal);
    this.now = opts.now ?? (() => performance.now());
    opts.results.on("outcome", (event: OutcomeEvent) => {
      this.finishedTests.add(event.parent ?? event.test);
      if (this.mode === "live") this.scheduleDraw();
    });
  }

  /** The console's writer. */
  readonly write = (text: string): void => {
    if (text === "") return;
    if (this.mode !== "live" || !this.source) {
      this.atLineStart = text.endsWith("\n");
      this.opts.write(text);
      return;
    }
    const newline = text.lastIndexOf("\n");
    if (newline < 0) {
      this.partial += text;
      this.scheduleDraw();
      return;
    }
    const out = this.partial + text.slice(0, newline + 1);
    this.partial = text.slice(newline + 1);
    this.clear();
    this.opts.write(out);
    this.draw();
  };

  /** Begin showing progress (the tests phase starts). */
  start(source: ProgressSource): void {
    if (this.mode === "off") return;
    this.source = source;
    this.startedAt = this.now();
    this.doneAtStart = this.finishedTests.size;
    const every = this.mode === "live" ? 1000 : (this.opts.intervalSeconds ?? 30) * 1000;
    this.timer = setInterval(() => (this.mode === "live" ? this.draw() : this.plainLine()), every);
    this.timer.unref();
    if (this.mode === "live") this.draw();
  }

  /** Stop showing progress: the live line goes away and held dots are written out. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.drawPending) clearTimeout(this.drawPending);
    this.timer = undefined;
    this.drawPending = undefined;
    if (this.mode === "live" && this.source) {
      this.clear();
      if (this.partial) this.opts.write(this.partial);
      this.partial = "";
    }
    this.source = undefined;
  }

  /** The numbers both modes show. */
  status(): {
    done: number;
    total: number;
    failed: number;
    elapsed: number;
    remaining: number | undefined;
  } {
    const total = this.source?.total ?? 0;
    const done = Math.min(this.finishedTests.size, total || Infinity);
    const elapsed = (this.now() - this.startedAt) / 1000;
    return { done, total, failed: this.opts.results.failedCount, elapsed, remaining: this.remaining(done, elapsed) };
  }

  /**
   * Seconds left, only when there is a real estimate: the source's when stored timings cover the
   * run; else, once a tenth of the tests left at the start have finished, what their pace says
   * (or the source's, if longer). Never under a second while tests remain: no "0:00 left".
   */
  private remaining(done: number, elapsed: number): number | undefined {
    const source = this.source;
    if (!source || done >= source.total) return undefined;
    const estimate = source.estimateRemaining();
    let seconds = source.timed ? estimate : undefined;
    const finished = done - this.doneAtStart;
    if (!source.timed && finished > 0 && finished >= (source.total - this.doneAtStart) * EXTRAPOLATE_AFTER) {
      seconds = Math.max(estimate ?? 0, (elapsed * (source.total - done)) / finished);
    }
    return seconds === undefined ? undefined : Math.max(1, seconds);
  }

  /** The live line (without the held dots), cut to `width`. */
  liveLine(width: number): string {
    const s = this.status();
    const digits = String(s.total).length;
    const parts = [`[${String(s.done).padStart(digits)}/${s.total}]`];
    if (s.failed > 0) parts.push(`${s.failed} failed`);
    parts.push(clock(s.elapsed));
    if (s.remaining !== undefined) parts.push(`ETA ~${clock(s.remaining)}`);
    let line = parts.join(" · ");
    if (this.opts.verbosity >= 2 && this.source) {
      const busy = this.source.current().filter((w) => w.label);
      if (busy.length > 0) line += " · " + busy.map((w) => `${w.slot}: ${w.label}`).join("  ");
    }
    return truncate(line, width);
  }

  /** One plain progress line (CI logs). */
  plainText(): string {
    const s = this.status();
    const percent = s.total > 0 ? ` (${Math.floor((100 * s.done) / s.total)}%)` : "";
    const left = s.remaining !== undefined ? `, about ${clock(s.remaining)} left` : "";
    return `Progress: ${s.done}/${s.total} tests${percent}, ${s.failed} failed, ${clock(s.elapsed)} elapsed${left}\n`;
  }

  private plainLine(): void {
    if (!this.source) return;
    this.opts.write((this.atLineStart ? "" : "\n") + this.plainText());
    this.atLineStart = true;
  }

  private scheduleDraw(): void {
    if (this.drawPending || !this.source) return;
    const wait = Math.max(0, DRAW_EVERY_MS - (this.now() - this.lastDraw));
    this.drawPending = setTimeout(() => {
      this.drawPending = undefined;
      this.draw();
    }, wait);
    this.drawPending.unref();
  }

  private draw(): void {
    if (!this.source) return;
    this.lastDraw = this.now();
    // One column short of the edge: a full line would wrap and \r could no longer clear it.
    const width = Math.max(20, (this.opts.terminal?.columns() || 80) - 1);
    let line = this.liveLine(width);
    if (this.partial) {
      const room = width - line.length - 1;
      if (room > 0) line = `${this.partial.length > room ? this.partial.slice(-room) : this.partial} ${line}`;
    }
    this.opts.write(CLEAR_LINE + line);
    this.drawn = true;
  }

  private clear(): void {
    if (!this.drawn) return;
    this.opts.write(CLEAR_LINE);
    this.drawn = false;
  }
}

function truncate(text: string, width: number): string {
  return text.length <= width ? text : text.slice(0, Math.max(0, width - 1)) + "…";
}

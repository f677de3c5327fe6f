// Supervision: which workers to kill, and killing them. Every worker sends a heartbeat each
// second. A worker whose class runs past the timeout is killed (a timeout); one that sends
// nothing for a while is frozen (a slow test keeps its heartbeat going); one that is not ready
// within the timeout could not start. Before a kill the worker is asked for its stacks, so the
// report can say where it was. What becomes of its tests is the losses' business.
import type { LossKind } from "./incidents.ts";
import type { WorkerLauncher } from "./processes.ts";
import { requestStacks } from "./stacks.ts";
import type { Worker } from "./worker.ts";

/**
 * Seconds of silence after which a worker counts as frozen: half the timeout, at least 5 s (a
 * busy machine can delay a heartbeat by a second or two), at most a minute.
 */
export function hungAfter(timeout: number): number {
  return Math.min(60, Math.max(5, timeout / 2));
}

export interface Limits {
  /** Seconds one work item (a class) may run; also the limit for starting up. */
  timeout: number;
  /** Milliseconds without any message after which a worker counts as frozen. */
  hungMs: number;
}

/** Why the pool kills a worker. */
export interface Verdict {
  kind: Exclude<LossKind, "crash">;
  message: string;
}

/** What to do about one worker at `now` (performance.now()): nothing, or kill it and why. */
export function verdictFor(w: Worker, now: number, limits: Limits): Verdict | undefined {
  const timeoutMs = limits.timeout * 1000;
  if (w.state === "starting") {
    if (now - w.startedAt <= timeoutMs) return undefined;
    const message = `it was not ready after ${seconds(now - w.startedAt)} (the timeout is ${limits.timeout}s)`;
    return { kind: "startFailure", message };
  }
  if (w.state !== "busy" && w.state !== "idle") return undefined;
  const silent = now - w.lastSeen;
  if (silent > limits.hungMs) {
    const where = w.runningTest
      ? ` while running ${w.runningTest}`
      : w.item
        ? ` in ${w.item.record.label}`
        : " while idle";
    const message = `no heartbeat for ${seconds(silent)}${where}: the process is frozen (a deadlock, a C extension holding the GIL, or a stopped process)`;
    return { kind: "hung", message };
  }
  if (w.state === "busy" && now - w.itemStartedAt > timeoutMs) {
    const running = w.runningTest
      ? `; ${w.runningTest} had been running for ${seconds(now - w.runningSince)}`
      : "; no test was running (class setup or teardown)";
    const message = `${w.item!.record.label} ran for ${seconds(now - w.itemStartedAt)}, past the ${limits.timeout}s timeout${running}; the worker was still responding, so a test is slow or waiting`;
    return { kind: "timeout", message };
  }
  return undefined;
}

/** Looks at every worker each tick and hands the ones to kill to `onVerdict`. */
export class Supervisor {
  private ticker?: NodeJS.Timeout;
  private lastTick = performance.now();

  constructor(
    private readonly workers: () => Iterable<Worker>,
    private readonly limits: Limits,
    private readonly onVerdict: (worker: Worker, verdict: Verdict) => void,
    private readonly tickMs: number,
  ) {}

  start(): void {
    this.lastTick = performance.now();
    this.ticker = setInterval(() => this.tick(), this.tickMs);
  }

  stop(): void {
    if (this.ticker) clearInterval(this.ticker);
  }

  private tick(): void {
    const now = performance.now();
    const gap = now - this.lastTick - this.tickMs;
    this.lastTick = now;
    // The engine itself was suspended (Ctrl-Z) or starved: do not blame the workers for it.
    if (gap > 2000) for (const w of this.workers()) shiftClocks(w, gap);
    for (const w of this.workers()) {
      const verdict = verdictFor(w, now, this.limits);
      if (verdict) this.onVerdict(w, verdict);
    }
  }
}

function shiftClocks(w: Worker, ms: number): void {
  w.lastSeen += ms;
  w.startedAt += ms;
  w.itemStartedAt += ms;
  w.runningSince += ms;
}

/**
 * Kills a worker on purpose; its loss is then handled like any other, with this reason. A worker
 * whose pid is not known yet is killed as soon as it is (the pool's onPid); one that never
 * connected is only seen through its exit.
 */
export async function killWorker(
  worker: Worker,
  verdict: Verdict,
  launcher: WorkerLauncher,
  stacksWaitMs?: number,
): Promise<void> {
  if (worker.killed || worker.state === "lost" || worker.state === "stopping") return;
  worker.killed = { ...verdict, stacks: null, at: performance.now() };
  if (worker.state !== "starting") worker.state = "killing";
  const pid = worker.pid;
  if (pid && verdict.kind !== "startFailure") {
    worker.killed.stacks = await requestStacks(
      (signal) => launcher.signal(pid, signal),
      worker.stackFile,
      stacksWaitMs,
    );
  }
  if (worker.pid) launcher.signal(worker.pid, "SIGKILL");
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

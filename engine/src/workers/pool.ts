// The worker pool: one Python process per clone slot, each pulling work items from the queue
// and streaming results back. This file is the state machine (slots, workers' states, dispatch,
// the end of the run); its parts are the launchers (processes.ts), the handshake
// (handshake.ts), supervision (supervision.ts) and what a lost worker means (losses.ts).
//
// Workers start before the clones exist: until `attachDatabases`, they take only classes that
// use no database, so start-up and those classes overlap building the templates and clones.
//
// A lost worker (crashed, or killed for a timeout or for being frozen) is replaced by a fresh one
// in the same clone slot (with fresh clones if the class may have left rows behind), which takes
// any retry first. A worker that cannot start at all fails the run at once.
import { rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import path from "node:path";
import type { SlotDatabases } from "../databases/clones.ts";
import { ConcurrentTestError } from "../core/errors.ts";
import { ChannelClosedError } from "../protocol/channel.ts";
import type { FromWorker, OutcomeEvent, TestClassInfo } from "../protocol/messages.ts";
import type { RunResults } from "../results/run-results.ts";
import type { WorkQueue } from "../scheduling/queue.ts";
import type { Timings } from "../scheduling/timings.ts";
import { type EarlyOutputSink, recoverEarlyOutput } from "./early-output.ts";
import { Handshake, type ConfigureBase, type HandshakeHost } from "./handshake.ts";
import type { Incident, WorkerEvent } from "./incidents.ts";
import { describeExit, Losses, needsFreshClones } from "./losses.ts";
import {
  launcherFor,
  type ForkingBridge,
  type LaunchSettings,
  type LaunchTarget,
  type WorkerLauncher,
} from "./processes.ts";
import { hungAfter, killWorker, Supervisor, type Verdict } from "./supervision.ts";
import { makePoolDir } from "./pool-dirs.ts";
import { isUnwanted, newWorker, type Worker } from "./worker.ts";

interface PoolSettings {
  /** Clone slot numbers, one worker each; their databases come with attachDatabases. */
  slots: number[];
  configure: ConfigureBase;
  queue: WorkQueue;
  results: RunResults;
  /** Stop handing out work after the first failure or error (--failfast). */
  failfast: boolean;
  /** Seconds one work item (a class) may run on a worker; also the limit for starting up. */
  timeout: number;
  /** How often a class cut short by a crash runs again on a fresh worker (0: never). */
  crashRetries: number;
  /** Estimates for retried work (ETA). */
  timings: Timings;
  /** Replaces one slot's clones with fresh copies, before a new worker uses them. */
  refreshSlot?: (slot: number) => Promise<void>;
  /** Told of every worker lost and of every retry's result (the event log). */
  onEvent?: (event: WorkerEvent) => void;
  /** What a worker lost before attach still held (default: this process's stdout and stderr). */
  onEarlyOutput?: EarlyOutputSink;
  /** A test raised KeyboardInterrupt: the run ends as on Ctrl-C (default: interrupt the pool). */
  onKeyboardInterrupt?: (test: string) => void;
  /** Seconds between heartbeats (default 1). */
  heartbeatSeconds?: number;
  /** Seconds without any message after which a worker counts as frozen (default: hungAfter). */
  hungAfterSeconds?: number;
  /** The pool's own clock, shortened by tests (defaults: a real run's). */
  clock?: Partial<Clock>;
}

interface Clock {
  /** How often supervision looks at the workers. */
  tickMs: number;
  /** How long to wait for a closed worker's exit status before describing it without one. */
  exitWaitMs: number;
  /** How long a worker about to be killed may take to write its stacks. */
  stacksWaitMs: number;
}

const CLOCK: Clock = { tickMs: 200, exitWaitMs: 1000, stacksWaitMs: 500 };

/**
 * Workers started by the start method's launcher; or by the caller's own launcher (a test's fake
 * workers). The bridge, when given, is watched: without it the run cannot go on.
 */
export type PoolOptions = PoolSettings &
  (LaunchSettings | { launcher: WorkerLauncher; bridge?: Pick<ForkingBridge, "channel"> });

/** A worker could not start: its error is printed above (a run error, exit status 1). */
export class WorkerStartError extends ConcurrentTestError {
  override readonly exitCode: number = 1;
}

const writeToProcess: EarlyOutputSink = (stream, text) => process[stream].write(text);

const FAILED = new Set<OutcomeEvent["outcome"]>(["failure", "error", "unexpectedSuccess"]);

export class WorkerPool {
  private readonly server: Server;
  private readonly dir: string;
  readonly socketPath: string;
  private readonly launcher: WorkerLauncher;
  private readonly handshake: Handshake;
  private readonly supervisor: Supervisor;
  private readonly losses: Losses;
  private readonly clock: Clock;
  /** The current worker of each slot. */
  private readonly workers = new Map<number, Worker>();
  /** Every pid the run started (stop waits for them all). */
  private readonly pids = new Set<number>();
  /** Slots waiting for fresh clones before their next worker starts, and those refreshes. */
  private readonly replacing = new Set<number>();
  private readonly refreshes = new Set<Promise<void>>();
  private resolveDone!: () => void;
  private rejectDone!: (error: Error) => void;
  private readonly done: Promise<void>;
  private finished = false;
  private interrupted = false;
  private stopping = false;
  private anyReady = false;
  private started = false;
  /** Expected and actual seconds of finished items: scales the ETA to this machine. */
  private doneExpected = 0;
  private doneActual = 0;
  /** Seconds from asking for workers to the last one being ready. */
  readyAt?: number;

  constructor(private readonly opts: PoolOptions) {
    this.dir = makePoolDir();
    this.socketPath = path.join(this.dir, "workers.sock");
    this.clock = { ...CLOCK, ...opts.clock };
    this.launcher = "launcher" in opts ? opts.launcher : launcherFor(opts);
    const heartbeatSeconds = opts.heartbeatSeconds ?? 1;
    this.handshake = new Handshake(this.handshakeHost(), opts.configure, heartbeatSeconds);
    this.server = createServer((socket) => this.handshake.accept(socket));
    const hungMs = (opts.hungAfterSeconds ?? hungAfter(opts.timeout)) * 1000;
    this.supervisor = new Supervisor(
      () => this.workers.values(),
      { timeout: opts.timeout, hungMs },
      (worker, verdict) => this.kill(worker, verdict),
      this.clock.tickMs,
    );
    this.losses = new Losses(opts);
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // The pool can fail (no worker starts) while the run still builds its databases: the
    // failure is taken up by run(), not reported as unhandled in between.
    this.done.catch(() => undefined);
    if (opts.bridge) this.watchBridge(opts.bridge);
  }

  /** The workers lost during the run and what became of their tests. */
  get incidents(): Incident[] {
    return this.losses.incidents;
  }

  private watchBridge(bridge: Pick<ForkingBridge, "channel">): void {
    bridge.channel.on("close", () => {
      // Forked workers and the teardown both need it: without it the run cannot go on.
      if (this.stopping || this.interrupted) return;
      this.fail(
        bridge.channel.failure ?? new ChannelClosedError("the Python process that forks the workers went away mid-run"),
      );
    });
  }

  /** Start every worker; until attachDatabases they run only classes that use no database. */
  async start(): Promise<void> {
    if (this.finished || this.started) return; // interrupted before it started
    this.started = true;
    await new Promise<void>((resolve) => this.server.listen(this.socketPath, resolve));
    if (this.finished) return;
    const slots = this.opts.slots;
    for (const slot of slots) this.workers.set(slot, newWorker(slot, 1, this.dir));
    this.launch(slots.map((slot) => this.workers.get(slot)!));
    this.supervisor.start();
    if (slots.length === 0) this.finish();
  }

  /**
   * The clones exist: every worker points its connections at its slot's, then takes any work.
   * `freshWorkers`: workers started before now lack something the databases' setup did to the
   * process they fork from (signal receivers it connected), so each finishes its class, exits,
   * and a fresh worker takes its slot.
   */
  attachDatabases(
    slots: SlotDatabases[],
    serializedContents: Record<string, string> = {},
    { freshWorkers = false }: { freshWorkers?: boolean } = {},
  ): void {
    this.handshake.setDatabases(slots, serializedContents);
    if (this.finished) return;
    for (const w of this.workers.values()) {
      if (w.databases !== "none" || w.state === "lost" || w.state === "stopping") continue;
      if (freshWorkers) this.retire(w);
      else if (w.channel) this.sendAttach(w);
    }
  }

  /** Ends a worker once it is idle (now, or when its class is done); handleLoss starts its successor. */
  private retire(worker: Worker): void {
    worker.retiring = true;
    if (worker.state !== "idle") return; // busy: on classDone; starting: when ready
    worker.state = "stopping";
    worker.channel!.send({ type: "stop" });
  }

  private sendAttach(worker: Worker): void {
    if (this.handshake.attach(worker)) return;
    this.attached(worker);
    if (worker.state === "idle") this.dispatch(worker);
  }

  /** Start the workers if need be, and run the queue dry; resolves when all handed-out work is back. */
  async run(): Promise<void> {
    await this.start();
    return this.done;
  }

  // --- processes -------------------------------------------------------------------------------

  private launch(workers: Worker[]): void {
    this.launcher.launch(
      workers.map((w) => this.targetFor(w)),
      this.socketPath,
    );
  }

  private targetFor(worker: Worker): LaunchTarget {
    return {
      slot: worker.slot,
      onPid: (pid) => this.knowPid(worker, pid),
      onExit: (exit) => {
        worker.exit = exit;
        this.noteGone(worker);
      },
    };
  }

  private knowPid(worker: Worker, pid: number): void {
    worker.pid = pid;
    this.pids.add(pid);
    // Killed (interrupt, stop, a timeout while starting) before its pid was known.
    if (isUnwanted(worker)) this.launcher.signal(pid, "SIGKILL");
  }

  private handshakeHost(): HandshakeHost {
    return {
      workerFor: (slot) => this.workers.get(slot),
      learnedPid: (worker, pid) => this.knowPid(worker, pid),
      refuse: (pid) => this.launcher.signal(pid, "SIGKILL"),
      message: (worker, message) => this.onMessage(worker, message),
      closed: (worker) => {
        worker.closed = true;
        this.noteGone(worker);
      },
      broken: (error) => this.fail(error),
    };
  }

  // --- what workers say ------------------------------------------------------------------------

  private onMessage(worker: Worker, message: FromWorker): void {
    if (worker.state === "lost" || worker.state === "killing") return;
    switch (message.type) {
      case "ready":
        return this.onReady(worker);
      case "attached":
        this.attached(worker);
        if (worker.state === "idle") this.dispatch(worker);
        return;
      case "testStart":
        worker.runningTest = message.test;
        worker.runningSince = performance.now();
        return this.losses.reportStart(message.test, message.classIndex, worker.slot);
      case "testStop":
        worker.done.add(message.test);
        if (worker.runningTest === message.test) worker.runningTest = undefined;
        return this.opts.results.testStopped(message, worker.slot);
      case "outcome":
        return this.onOutcome(worker, message);
      case "keyboardInterrupt":
        // Django's runner stops at a KeyboardInterrupt from a test: never a crash to retry.
        this.opts.onEvent?.({ type: "keyboardInterrupt", test: message.test, slot: worker.slot });
        if (this.opts.onKeyboardInterrupt) this.opts.onKeyboardInterrupt(message.test);
        else this.interrupt();
        return;
      case "classDone":
        if (worker.item) this.itemFinished(worker);
        worker.state = "idle";
        if (worker.retiring) return this.retire(worker);
        return this.dispatch(worker);
      default:
        return; // heartbeat, classStart: being heard from is all they say
    }
  }

  private onReady(worker: Worker): void {
    if (worker.state !== "starting") return;
    worker.state = "idle";
    worker.ready = true;
    if (worker.databases === "attaching") this.attached(worker);
    this.anyReady = true;
    const { results } = this.opts;
    results.emit("workerReady", worker.slot, worker.pid ?? 0);
    if ([...this.workers.values()].every((w) => w.state !== "starting")) this.readyAt ??= results.now();
    if (worker.retiring) return this.retire(worker);
    this.dispatch(worker);
  }

  private onOutcome(worker: Worker, message: OutcomeEvent): void {
    worker.done.add(message.parent ?? message.test);
    if (FAILED.has(message.outcome)) worker.itemFailed = true;
    this.opts.results.outcome(message, worker.slot);
    if (this.opts.failfast && (message.outcome === "failure" || message.outcome === "error")) {
      this.opts.queue.stop();
    }
  }

  private attached(worker: Worker): void {
    worker.databases = "attached";
    this.opts.results.emit("workerAttached", worker.slot);
  }

  private itemFinished(worker: Worker): void {
    const item = worker.item!;
    this.doneExpected += item.expected;
    this.doneActual += (performance.now() - worker.itemStartedAt) / 1000;
    this.opts.results.classFinished(item.record.index);
    this.losses.itemFinished(item, worker.itemFailed);
    worker.item = undefined;
    worker.runningTest = undefined;
  }

  // --- dispatch --------------------------------------------------------------------------------

  private dispatch(worker: Worker): void {
    if (worker.state !== "idle" || !worker.channel || this.finished) return;
    const next = this.opts.queue.next(worker.databases === "attached");
    if (!next) return this.checkDone();
    worker.state = "busy";
    worker.item = next;
    worker.itemStartedAt = performance.now();
    worker.done.clear();
    worker.itemFailed = false;
    worker.runningTest = undefined;
    this.opts.results.classStarted(next.record, worker.slot);
    // A part of a split class or a retry runs only its own tests.
    const subset = next.record !== next.info;
    worker.channel.send({
      type: "run",
      classIndex: next.info.index,
      ...(subset ? { tests: next.record.tests.map((t) => t.id) } : {}),
    });
  }

  private dispatchIdle(): void {
    for (const w of this.workers.values()) if (w.state === "idle") this.dispatch(w);
  }

  /** Finishes the run when nothing is running and nothing more will be. */
  private checkDone(): void {
    if (this.finished) return;
    const live = [...this.workers.values()];
    // A worker still starting is waited for too: it is then stopped like the others, so every
    // worker of the run is seen ready and seen gone (fork start takes tens of milliseconds).
    const running = live.some((w) => w.state === "busy" || w.state === "killing" || w.state === "starting");
    const workLeft = !this.opts.queue.isStopped && this.opts.queue.remaining.length > 0;
    if (!workLeft) {
      if (!running) this.finish();
      return;
    }
    const canRun = live.some((w) => (w.state !== "lost" && w.state !== "stopping") || w.retiring);
    if (!canRun && this.replacing.size === 0) {
      // Nobody left to run what remains: report it rather than lose it.
      this.losses.reportNotRun("no worker left to run it");
      this.finish();
    }
  }

  // --- losing workers --------------------------------------------------------------------------

  private kill(worker: Worker, verdict: Verdict): void {
    // Reading its stacks must never fail the run: the kill itself is what matters.
    killWorker(worker, verdict, this.launcher, this.clock.stacksWaitMs).catch(() => {
      if (worker.pid) this.launcher.signal(worker.pid, "SIGKILL");
    });
  }

  /** The worker's channel closed or its process exited; handle once its exit status is known. */
  private noteGone(worker: Worker): void {
    if (worker.handled) return;
    // Both the exit status and the end of the channel: results the worker sent just before it
    // died may still be unread when its exit is reported.
    const drained = worker.closed || !worker.channel;
    const exited = worker.exit !== undefined || !worker.pid;
    if (drained && exited) return this.handleLoss(worker);
    worker.exitWait ??= setTimeout(() => {
      // One of the two never came (a child holding the socket, an exit not reported): make sure.
      if (worker.pid && this.launcher.isAlive(worker.pid)) this.launcher.signal(worker.pid, "SIGKILL");
      this.handleLoss(worker);
    }, this.clock.exitWaitMs);
  }

  private handleLoss(worker: Worker): void {
    if (worker.handled) return;
    worker.handled = true;
    if (worker.exitWait) clearTimeout(worker.exitWait);
    recoverEarlyOutput(worker.heldOutput, this.opts.onEarlyOutput ?? writeToProcess);
    const previous = worker.state;
    worker.state = "lost";
    if (this.workers.get(worker.slot) !== worker) return; // an earlier generation
    if (this.stopping || this.interrupted || this.finished) return this.checkDone();
    if (worker.retiring && previous === "stopping") return this.succeed(worker);
    if (previous === "stopping") return this.checkDone();
    if (!worker.ready) return this.startFailed(worker);
    const cutShort = worker.item?.info;
    this.losses.workerLost(worker);
    this.replace(worker, cutShort);
    this.dispatchIdle();
    this.checkDone();
  }

  /** A worker died before it was ready: never respawned; the first one fails the run. */
  private startFailed(worker: Worker): void {
    const why = worker.killed?.message ?? `its process ${describeExit(worker)}`;
    this.losses.startFailure(worker.slot, worker.pid ?? null, why);
    if (!this.anyReady) {
      // Every worker runs the same code: when none has started yet, none will.
      this.fail(new WorkerStartError(`worker ${worker.slot} could not start: ${why}; its error is printed above`));
      return;
    }
    this.checkDone();
  }

  /** A retired worker's successor, if work is left: forked now, it starts with the slot's clones. */
  private succeed(retired: Worker): void {
    if (this.opts.queue.isStopped || this.opts.queue.remaining.length === 0) return this.checkDone();
    const worker = newWorker(retired.slot, retired.generation + 1, this.dir);
    this.workers.set(retired.slot, worker);
    this.launch([worker]);
  }

  /** A fresh worker in the lost worker's slot (after fresh clones if need be), if work is left. */
  private replace(lost: Worker, cutShort: TestClassInfo | undefined): void {
    const workLeft = !this.opts.queue.isStopped && this.opts.queue.remaining.length > 0;
    if (!workLeft) return;
    const start = (): void => {
      this.replacing.delete(lost.slot);
      if (this.finished || this.stopping || this.interrupted) return;
      const worker = newWorker(lost.slot, lost.generation + 1, this.dir);
      this.workers.set(lost.slot, worker);
      this.launch([worker]);
    };
    if (!needsFreshClones(cutShort) || !this.opts.refreshSlot) return start();
    this.replacing.add(lost.slot);
    const refresh = this.opts.refreshSlot(lost.slot).then(start, (error: unknown) => {
      this.replacing.delete(lost.slot);
      const why = `its clones could not be made again, so the slot is not used any more: ${(error as Error).message}`;
      this.losses.startFailure(lost.slot, null, why);
      this.dispatchIdle();
      this.checkDone();
    });
    // The teardown must not drop clones while they are being made again: stop() waits.
    this.refreshes.add(refresh);
    void refresh.finally(() => this.refreshes.delete(refresh));
  }

  // --- the end of a run ------------------------------------------------------------------------

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.supervisor.stop();
    this.losses.reportUnrunRetries(this.interrupted ? "the run was interrupted" : "the run stopped early");
    this.resolveDone();
  }

  private fail(error: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.supervisor.stop();
    this.killAll();
    this.rejectDone(error);
  }

  private killAll(): void {
    for (const w of this.workers.values()) {
      if (w.state !== "lost") w.state = "stopping";
      if (w.pid) this.launcher.signal(w.pid, "SIGKILL");
    }
  }

  /** Ctrl-C / SIGTERM: stop handing out work and kill the workers; running classes are abandoned. */
  interrupt(): void {
    if (this.interrupted) return;
    this.interrupted = true;
    this.opts.queue.stop();
    for (const w of this.workers.values()) {
      if (w.item && (w.state === "busy" || w.state === "killing")) {
        this.opts.results.classFinished(w.item.record.index, "interrupted");
        this.losses.itemAbandoned(w.item);
      }
    }
    this.killAll();
    this.finish();
  }

  /** Classes that were running when the run was interrupted, and items never handed out. */
  get cutShort(): { running: number; notStarted: number } {
    let running = 0;
    for (const record of this.opts.results.classes.values()) if (record.interrupted === "interrupted") running++;
    return { running, notStarted: this.opts.queue.remaining.length };
  }

  /** Ask workers to exit, wait for them, kill stragglers, and remove the socket. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    this.supervisor.stop();
    await Promise.allSettled([...this.refreshes]);
    for (const w of this.workers.values()) {
      if (w.state === "lost") continue;
      w.state = "stopping";
      w.channel?.send({ type: "stop" });
    }
    // Forks asked for just before the end: wait briefly for their pids so they can be killed.
    await this.launcher.settle(2000);
    const alive = (): number[] => [...this.pids].filter((pid) => this.launcher.isAlive(pid));
    const deadline = Date.now() + graceMs;
    while (alive().length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const pid of alive()) this.launcher.signal(pid, "SIGKILL");
    for (const w of this.workers.values()) if (w.exitWait) clearTimeout(w.exitWait);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  // --- what the progress line shows ------------------------------------------------------------

  /** Each slot's current class (label, part), for the progress line at -v 2. */
  current(): { slot: number; label: string | null }[] {
    return [...this.workers.values()]
      .sort((a, b) => a.slot - b.slot)
      .map((w) => ({
        slot: w.slot,
        label: w.item ? w.item.record.label + (w.item.part ? ` [${w.item.part.number}/${w.item.part.of}]` : "") : null,
      }));
  }

  /** Seconds until the run should end, from the expected durations, scaled to this machine. */
  estimateRemaining(): number | undefined {
    const now = performance.now();
    let remaining = this.opts.queue.isStopped ? 0 : this.opts.queue.expectedRemaining;
    let live = 0;
    for (const w of this.workers.values()) {
      if (w.state === "idle" || w.state === "busy" || w.state === "starting") live++;
      if (w.item && w.state === "busy") remaining += Math.max(0, w.item.expected - (now - w.itemStartedAt) / 1000);
    }
    if (live === 0) return undefined;
    const scale = this.doneExpected > 0.5 ? Math.min(4, Math.max(0.25, this.doneActual / this.doneExpected)) : 1;
    return (remaining * scale) / live;
  }
}

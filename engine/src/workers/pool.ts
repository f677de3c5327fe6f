// The worker pool: one Python process per clone slot, each pulling work items from the queue
// and streaming results back. Workers are forked from the warm bridge process (fast, like
// Django's fork) or spawned as fresh interpreters.
//
// Workers start before the clones exist: until `attachDatabases`, they take only classes that
// use no database, so start-up and those classes overlap building the templates and clones.
//
// Supervision: every worker sends a heartbeat each second. A worker whose class runs past the
// timeout is killed (WorkerTimeout); one that sends nothing for a while is frozen and killed
// (a slow test keeps its heartbeat going); one that dies by itself crashed. Either way its
// running test and unstarted tests are reported, a fresh worker takes the same clone slot (with
// fresh clones if the class may have left rows behind), and after a crash the unfinished tests
// run once more on it. A worker that cannot start at all fails the run at once.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import type { BridgeClient } from "../bridge/client.ts";
import type { SlotDatabases } from "../clones.ts";
import { ConcurrentTestError } from "../errors.ts";
import { Channel, ChannelClosedError } from "../protocol/channel.ts";
import type {
  CloneSpec,
  FromWorker,
  OutcomeEvent,
  TestClassInfo,
  TestInfo,
  ToWorker,
  WorkerExited,
} from "../protocol/messages.ts";
import type { RunResults } from "../results.ts";
import type { WorkItem, WorkQueue } from "../scheduler.ts";
import type { Timings } from "../timings.ts";
import type { Incident, LossKind, RetryResult } from "./incidents.ts";
import { cleanStacks, readFrom, requestStacks } from "./stacks.ts";

type ConfigureMessage = Extract<ToWorker, { type: "configure" }>;

export interface PoolOptions {
  /** Clone slot numbers, one worker each; their databases come with attachDatabases. */
  slots: number[];
  startMethod: "fork" | "spawn";
  bridge: BridgeClient;
  python: string;
  env: NodeJS.ProcessEnv;
  configure: Omit<ConfigureMessage, "type" | "clones" | "supervision">;
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
  onEvent?: (event: Record<string, unknown>) => void;
  /** A test raised KeyboardInterrupt: the run ends as on Ctrl-C (default: interrupt the pool). */
  onKeyboardInterrupt?: (test: string) => void;
  /** Seconds between heartbeats (default 1). */
  heartbeatSeconds?: number;
  /** Seconds without any message after which a worker counts as frozen (default: hungAfter). */
  hungAfterSeconds?: number;
}

type State = "starting" | "idle" | "busy" | "killing" | "stopping" | "lost";

interface Worker {
  slot: number;
  /** 1 for a slot's first worker, +1 for each replacement. */
  generation: number;
  pid?: number;
  channel?: Channel<FromWorker, ToWorker>;
  child?: ChildProcess;
  state: State;
  ready: boolean;
  /** Whether its connections point at its clones yet ("attaching": told, no answer yet). */
  databases: "none" | "attaching" | "attached";
  /** performance.now() values: when it was asked to start, when it was last heard from. */
  startedAt: number;
  lastSeen: number;
  item?: WorkItem;
  itemStartedAt: number;
  runningTest?: string;
  runningSince: number;
  /** Tests of the current item that started, and that have a result (stopped or an outcome). */
  started: Set<string>;
  done: Set<string>;
  itemFailed: boolean;
  exit?: { code: number | null; signal: string | null };
  /** Set when the pool itself killed the worker, and why. */
  killed?: {
    kind: Exclude<LossKind, "crash">;
    message: string;
    stacks: string | null;
    /** performance.now() when it was killed. */
    at: number;
  };
  closed: boolean;
  handled: boolean;
  exitWait?: NodeJS.Timeout;
  stackFile: string;
}

/** A worker could not start: its error is printed above (a run error, exit status 1). */
export class WorkerStartError extends ConcurrentTestError {
  override readonly exitCode: number = 1;
}

const TICK_MS = 200;
/** How long to wait for a closed worker's exit status before describing it without one. */
const EXIT_WAIT_MS = 1000;

const SIGNAL_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(os.constants.signals).map(([name, number]) => [number, name]),
);

const FAILED = new Set<OutcomeEvent["outcome"]>(["failure", "error", "unexpectedSuccess"]);

export class WorkerPool {
  private readonly server: Server;
  private readonly dir: string;
  readonly socketPath: string;
  /** The current worker of each slot. */
  private readonly workers = new Map<number, Worker>();
  private readonly byPid = new Map<number, Worker>();
  /** Fork requests the bridge has not answered yet, per slot. */
  private readonly pendingForks = new Map<number, Worker>();
  /** Slots waiting for fresh clones before their next worker starts, and those refreshes. */
  private readonly replacing = new Set<number>();
  private readonly refreshes = new Set<Promise<void>>();
  /** Tests whose start was reported (a retry must not count them twice). */
  private readonly reportedStart = new Set<string>();
  /** The incident each retry item answers. */
  private readonly retryOf = new Map<WorkItem, { incident: Incident; running: string | null; why: string }>();
  readonly incidents: Incident[] = [];
  private resolveDone!: () => void;
  private rejectDone!: (error: Error) => void;
  private readonly done: Promise<void>;
  private finished = false;
  private interrupted = false;
  private stopping = false;
  private anyReady = false;
  private ticker?: NodeJS.Timeout;
  private lastTick = performance.now();
  private readonly timeoutMs: number;
  private readonly hungMs: number;
  private readonly heartbeatSeconds: number;
  /** Expected and actual seconds of finished items: scales the ETA to this machine. */
  private doneExpected = 0;
  private doneActual = 0;
  /** Seconds from asking for workers to the last one being ready. */
  readyAt?: number;
  /** Each slot's clones, once they exist. */
  private slotDatabases?: Map<number, Record<string, CloneSpec>>;
  private serializedContents: Record<string, string> = {};
  private started = false;

  constructor(private readonly opts: PoolOptions) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), "dct-"));
    this.socketPath = path.join(this.dir, "workers.sock");
    this.server = createServer((socket) => this.accept(socket));
    this.timeoutMs = opts.timeout * 1000;
    this.heartbeatSeconds = opts.heartbeatSeconds ?? 1;
    this.hungMs = (opts.hungAfterSeconds ?? hungAfter(opts.timeout)) * 1000;
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // The pool can fail (no worker starts) while the run still builds its databases: the
    // failure is taken up by run(), not reported as unhandled in between.
    this.done.catch(() => undefined);
    opts.bridge.channel.on("message", (message) => {
      if (message.type === "workerExited") this.onBridgeExit(message);
      if (message.type === "forked") this.onForked(message.slot, message.pid);
    });
    opts.bridge.channel.on("close", () => {
      // Forked workers and the teardown both need it: without it the run cannot go on.
      if (!this.stopping && !this.interrupted) {
        this.fail(
          opts.bridge.channel.failure ??
            new ChannelClosedError("the Python process that forks the workers went away mid-run"),
        );
      }
    });
  }

  /** Start every worker; until attachDatabases they run only classes that use no database. */
  async start(): Promise<void> {
    if (this.finished || this.started) return; // interrupted before it started
    this.started = true;
    await new Promise<void>((resolve) => this.server.listen(this.socketPath, resolve));
    if (this.finished) return;
    const slots = this.opts.slots;
    for (const slot of slots) this.workers.set(slot, this.newWorker(slot, 1));
    if (this.opts.startMethod === "fork") {
      for (const slot of slots) this.pendingForks.set(slot, this.workers.get(slot)!);
      if (slots.length > 0) this.opts.bridge.forkWorkers(this.socketPath, slots);
    } else {
      for (const slot of slots) this.spawnWorker(this.workers.get(slot)!);
    }
    this.lastTick = performance.now();
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    if (slots.length === 0) this.finish();
  }

  /** The clones exist: every worker points its connections at its slot's, then takes any work. */
  attachDatabases(slots: SlotDatabases[], serializedContents: Record<string, string> = {}): void {
    this.slotDatabases = new Map(slots.map((s) => [s.slot, s.clones]));
    this.serializedContents = serializedContents;
    if (this.finished) return;
    for (const w of this.workers.values()) {
      if (!w.channel || w.databases !== "none" || w.state === "lost" || w.state === "stopping") continue;
      this.sendAttach(w);
    }
  }

  private sendAttach(worker: Worker): void {
    const clones = this.slotDatabases?.get(worker.slot);
    if (!clones || Object.keys(clones).length === 0) {
      this.attached(worker); // no alias is used: nothing to point anywhere
      if (worker.state === "idle") this.dispatch(worker);
      return;
    }
    worker.databases = "attaching";
    worker.channel!.send({
      type: "attach",
      clones,
      serializedAliases: this.opts.configure.serializedAliases,
      serializedContents: this.serializedContents,
    });
  }

  /** Start the workers if need be, and run the queue dry; resolves when all handed-out work is back. */
  async run(): Promise<void> {
    await this.start();
    return this.done;
  }

  private newWorker(slot: number, generation: number): Worker {
    const now = performance.now();
    return {
      slot,
      generation,
      state: "starting",
      ready: false,
      databases: "none",
      startedAt: now,
      lastSeen: now,
      itemStartedAt: 0,
      runningSince: 0,
      started: new Set(),
      done: new Set(),
      itemFailed: false,
      closed: false,
      handled: false,
      stackFile: path.join(this.dir, `stack-${slot}-${generation}.txt`),
    };
  }

  private startWorker(slot: number, generation: number): void {
    const worker = this.newWorker(slot, generation);
    this.workers.set(slot, worker);
    if (this.opts.startMethod === "fork") {
      this.pendingForks.set(slot, worker);
      this.opts.bridge.forkWorkers(this.socketPath, [slot]);
    } else {
      this.spawnWorker(worker);
    }
  }

  private spawnWorker(worker: Worker): void {
    const child = spawn(
      this.opts.python,
      ["-m", "django_concurrent_test.worker", "--socket", this.socketPath, "--slot", String(worker.slot)],
      { stdio: ["ignore", "inherit", "inherit"], env: this.opts.env },
    );
    worker.child = child;
    if (child.pid) this.knowPid(worker, child.pid);
    child.on("error", () => undefined); // a failed spawn also emits "exit"
    child.on("exit", (code, signal) => {
      worker.exit = { code, signal };
      this.noteGone(worker);
    });
  }

  private onForked(slot: number, pid: number): void {
    const worker = this.pendingForks.get(slot);
    if (!worker) return;
    this.pendingForks.delete(slot);
    this.knowPid(worker, pid);
  }

  private knowPid(worker: Worker, pid: number): void {
    worker.pid = pid;
    this.byPid.set(pid, worker);
    // Killed (interrupt, stop, a timeout while starting) before its pid was known.
    if (worker.state === "stopping" || worker.state === "lost" || worker.killed) killQuietly(pid, "SIGKILL");
  }

  private onBridgeExit(message: WorkerExited): void {
    const worker = this.byPid.get(message.pid);
    if (!worker) return;
    const signal = message.signal === null ? null : (SIGNAL_NAMES[message.signal] ?? String(message.signal));
    worker.exit = { code: message.code, signal };
    this.noteGone(worker);
  }

  private accept(socket: Socket): void {
    const channel = new Channel<FromWorker, ToWorker>(socket);
    let worker: Worker | undefined;
    // A worker's unreadable line ends the run with the reason (its results are unknown).
    channel.on("garbage", () => this.fail(channel.failure!));
    channel.on("message", (message) => {
      if (message.type === "hello") {
        const current = this.workers.get(message.slot);
        if (!current || current.channel || current.state !== "starting") {
          // A worker nobody waits for (started just before an interrupt): end it.
          killQuietly(message.pid, "SIGKILL");
          return channel.close();
        }
        worker = current;
        worker.channel = channel;
        if (worker.pid !== message.pid) this.knowPid(worker, message.pid);
        worker.lastSeen = performance.now();
        const clones = this.slotDatabases?.get(message.slot) ?? {};
        // Configured with its clones when they exist already; else attached once they do.
        if (this.slotDatabases) worker.databases = "attaching";
        channel.send({
          type: "configure",
          ...this.opts.configure,
          clones,
          supervision: {
            heartbeatSeconds: this.heartbeatSeconds,
            stackFile: worker.stackFile,
          },
        });
        return;
      }
      if (worker) {
        worker.lastSeen = performance.now();
        this.onMessage(worker, message);
      }
    });
    channel.on("close", () => {
      if (!worker) return;
      worker.closed = true;
      this.noteGone(worker);
    });
  }

  private onMessage(worker: Worker, message: FromWorker): void {
    const { results } = this.opts;
    if (worker.state === "lost" || worker.state === "killing") return;
    switch (message.type) {
      case "ready":
        if (worker.state !== "starting") break;
        worker.state = "idle";
        worker.ready = true;
        if (worker.databases === "attaching") this.attached(worker);
        this.anyReady = true;
        results.emit("workerReady", worker.slot, worker.pid ?? 0);
        if ([...this.workers.values()].every((w) => w.state !== "starting")) this.readyAt ??= results.now();
        this.dispatch(worker);
        break;
      case "attached":
        this.attached(worker);
        if (worker.state === "idle") this.dispatch(worker);
        break;
      case "testStart":
        worker.started.add(message.test);
        worker.runningTest = message.test;
        worker.runningSince = performance.now();
        if (!this.reportedStart.has(message.test)) {
          this.reportedStart.add(message.test);
          results.testStarted(message.test, message.classIndex, worker.slot);
        }
        break;
      case "testStop":
        worker.done.add(message.test);
        if (worker.runningTest === message.test) worker.runningTest = undefined;
        results.testStopped(message, worker.slot);
        break;
      case "outcome":
        worker.done.add(message.parent ?? message.test);
        if (FAILED.has(message.outcome)) worker.itemFailed = true;
        results.outcome(message, worker.slot);
        if (this.opts.failfast && (message.outcome === "failure" || message.outcome === "error")) {
          this.opts.queue.stop();
        }
        break;
      case "keyboardInterrupt":
        // Django's runner stops at a KeyboardInterrupt from a test: never a crash to retry.
        this.opts.onEvent?.({ type: "keyboardInterrupt", test: message.test, slot: worker.slot });
        if (this.opts.onKeyboardInterrupt) this.opts.onKeyboardInterrupt(message.test);
        else this.interrupt();
        break;
      case "classDone":
        if (worker.item) this.itemFinished(worker, worker.item);
        worker.state = "idle";
        this.dispatch(worker);
        break;
      default:
        break;
    }
  }

  private attached(worker: Worker): void {
    worker.databases = "attached";
    this.opts.results.emit("workerAttached", worker.slot);
  }

  private itemFinished(worker: Worker, item: WorkItem): void {
    const seconds = (performance.now() - worker.itemStartedAt) / 1000;
    this.doneExpected += item.expected;
    this.doneActual += seconds;
    this.opts.results.classFinished(item.record.index);
    const retried = this.retryOf.get(item);
    if (retried) this.resolveRetry(item, worker.itemFailed ? "failed" : "passed");
    worker.item = undefined;
    worker.runningTest = undefined;
  }

  private dispatch(worker: Worker): void {
    if (worker.state !== "idle" || !worker.channel || this.finished) return;
    const next = this.opts.queue.next(worker.databases === "attached");
    if (next) {
      worker.state = "busy";
      worker.item = next;
      worker.itemStartedAt = performance.now();
      worker.started.clear();
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
      return;
    }
    this.checkDone();
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
    const canRun = live.some(
      (w) => w.state === "idle" || w.state === "busy" || w.state === "starting" || w.state === "killing",
    );
    if (!canRun && this.replacing.size === 0) {
      // Nobody left to run what remains: report it rather than lose it.
      this.reportNotRun("no worker left to run it");
      this.finish();
    }
  }

  // --- supervision -------------------------------------------------------------------------

  private tick(): void {
    const now = performance.now();
    const gap = now - this.lastTick - TICK_MS;
    this.lastTick = now;
    if (gap > 2000) {
      // The engine itself was suspended (Ctrl-Z) or starved: do not blame the workers for it.
      for (const w of this.workers.values()) {
        w.lastSeen += gap;
        w.startedAt += gap;
        w.itemStartedAt += gap;
        w.runningSince += gap;
      }
    }
    for (const w of this.workers.values()) {
      const silent = now - w.lastSeen;
      if (w.state === "busy" || w.state === "idle") {
        if (silent > this.hungMs) {
          const where = w.runningTest
            ? ` while running ${w.runningTest}`
            : w.item
              ? ` in ${w.item.record.label}`
              : " while idle";
          void this.kill(
            w,
            "hung",
            `no heartbeat for ${seconds(silent)}${where}: the process is frozen (a deadlock, a C extension holding the GIL, or a stopped process)`,
          );
        } else if (w.state === "busy" && now - w.itemStartedAt > this.timeoutMs) {
          const running = w.runningTest
            ? `; ${w.runningTest} had been running for ${seconds(now - w.runningSince)}`
            : "; no test was running (class setup or teardown)";
          void this.kill(
            w,
            "timeout",
            `${w.item!.record.label} ran for ${seconds(now - w.itemStartedAt)}, past the ${this.opts.timeout}s timeout${running}; the worker was still responding, so a test is slow or waiting`,
          );
        }
      } else if (w.state === "starting" && now - w.startedAt > this.timeoutMs) {
        void this.kill(
          w,
          "startFailure",
          `it was not ready after ${seconds(now - w.startedAt)} (the timeout is ${this.opts.timeout}s)`,
        );
      }
    }
  }

  /** Kills a worker on purpose; its loss is then handled like any other, with this reason. */
  private async kill(worker: Worker, kind: Exclude<LossKind, "crash">, message: string): Promise<void> {
    if (worker.killed || worker.state === "lost" || worker.state === "stopping") return;
    worker.killed = { kind, message, stacks: null, at: performance.now() };
    if (worker.state !== "starting") worker.state = "killing";
    if (worker.pid && kind !== "startFailure") {
      worker.killed.stacks = await requestStacks(worker.pid, worker.stackFile);
    }
    if (worker.pid) killQuietly(worker.pid, "SIGKILL");
    // A worker that never connected is only seen through its exit; one whose pid is unknown yet
    // is killed as soon as it is known (knowPid).
  }

  /** The worker's channel closed or its process exited; handle once its exit status is known. */
  private noteGone(worker: Worker): void {
    if (worker.handled) return;
    // Both the exit status and the end of the channel: results the worker sent just before it
    // died may still be unread when its exit is reported.
    const drained = worker.closed || !worker.channel;
    const exited = worker.exit !== undefined || !worker.pid;
    if (drained && exited) {
      this.handleLoss(worker);
      return;
    }
    worker.exitWait ??= setTimeout(() => {
      // One of the two never came (a child holding the socket, an exit not reported): make sure.
      if (worker.pid && alive(worker.pid)) killQuietly(worker.pid, "SIGKILL");
      this.handleLoss(worker);
    }, EXIT_WAIT_MS);
  }

  private describeExit(worker: Worker): string {
    const exit = worker.exit;
    if (!exit) return "died (its connection closed)";
    if (exit.signal === "SIGKILL")
      return "was killed by signal SIGKILL (the kernel's out-of-memory killer sends SIGKILL too)";
    if (exit.signal) return `was killed by signal ${exit.signal}`;
    return `exited with status ${exit.code}`;
  }

  private handleLoss(worker: Worker): void {
    if (worker.handled) return;
    worker.handled = true;
    if (worker.exitWait) clearTimeout(worker.exitWait);
    const previous = worker.state;
    worker.state = "lost";
    if (this.workers.get(worker.slot) !== worker) return; // an earlier generation
    if (this.stopping || this.interrupted || this.finished || previous === "stopping") {
      this.checkDone();
      return;
    }
    if (!worker.ready) {
      this.startFailed(worker);
      return;
    }
    const kind: LossKind = worker.killed?.kind ?? "crash";
    // Fatal signals (segfault, abort) leave faulthandler's stacks in the file.
    const stacks = worker.killed?.stacks ?? (cleanStacks(readFrom(worker.stackFile)) || null);
    const message = worker.killed?.message ?? this.crashMessage(worker);
    const item = worker.item;
    const incident: Incident = {
      kind,
      slot: worker.slot,
      pid: worker.pid ?? null,
      message,
      label: item?.record.label ?? null,
      test: item ? (worker.runningTest ?? null) : null,
      elapsed: item ? round(((worker.killed?.at ?? performance.now()) - worker.itemStartedAt) / 1000) : null,
      stacks,
      retry: null,
    };
    // A retry that is lost again is told as the outcome of the first incident, not a new one.
    if (!item || !this.retryOf.has(item)) this.incidents.push(incident);
    if (item) this.lostItem(worker, item, incident);
    this.emitIncident(incident);
    this.replace(worker, item?.info);
    this.dispatchIdle();
    this.checkDone();
  }

  private crashMessage(worker: Worker): string {
    const exit = this.describeExit(worker);
    if (!worker.item) return `the worker process ${exit} while idle`;
    const where = worker.runningTest
      ? `while running ${worker.runningTest}`
      : `in ${worker.item.record.label} (no test was running: class setup or teardown)`;
    return `the worker process ${exit} ${where}`;
  }

  private emitIncident(incident: Incident): void {
    const { stacks: _stacks, ...event } = incident;
    this.opts.onEvent?.({ type: "workerLost", ...event });
  }

  /** Reports what a lost worker did not finish, or queues it again after a crash. */
  private lostItem(worker: Worker, item: WorkItem, incident: Incident): void {
    const unfinished = item.record.tests.filter((t) => !worker.done.has(t.id));
    const running = worker.runningTest && !worker.done.has(worker.runningTest) ? worker.runningTest : null;
    const previous = this.retryOf.get(item);
    if (previous) {
      this.resolveRetry(item, incident.kind === "crash" ? "crashed again" : "timed out");
    }
    const retries = item.attempt - 1;
    if (
      incident.kind === "crash" &&
      retries < this.opts.crashRetries &&
      unfinished.length > 0 &&
      !this.opts.queue.isStopped
    ) {
      this.opts.results.classFinished(item.record.index, `${incident.message}; retried`);
      const retry = this.opts.queue.retry(item, unfinished, this.opts.timings);
      incident.retry = "pending";
      this.retryOf.set(retry, { incident, running, why: incident.message });
      worker.item = undefined;
      return;
    }
    const reason =
      incident.kind === "timeout"
        ? `timed out after ${incident.elapsed}s`
        : incident.kind === "hung"
          ? "the worker stopped responding"
          : incident.message;
    if (unfinished.length === 0) {
      // Every test had its result: the class's own teardown was cut short.
      this.classError(
        item,
        worker.slot,
        `${incident.kind === "crash" ? "WorkerCrash" : "WorkerTimeout"}: ${incident.message}\n`,
      );
    }
    this.reportLost(item, unfinished, worker.slot, (test) => {
      const stacks = incident.stacks
        ? `\nWhere the worker was (most recent call first):\n${indent(incident.stacks)}\n`
        : "";
      if (test === running) {
        const name = incident.kind === "crash" ? "WorkerCrash" : "WorkerTimeout";
        const retried = item.attempt > 1 ? " (on the retry after an earlier crash)" : "";
        return `${name}: ${incident.message}${retried}\n${stacks}`;
      }
      const what =
        incident.kind === "crash"
          ? "the worker crashed"
          : incident.kind === "hung"
            ? "the worker stopped responding"
            : "the class ran out of time";
      return `NotRun: ${what} before this test started (${reason})\n`;
    });
    this.opts.results.classFinished(item.record.index, reason);
    worker.item = undefined;
  }

  /** An error of the class rather than of one test (like unittest's tearDownClass errors). */
  private classError(item: WorkItem, slot: number, traceback: string): void {
    const label = item.record.label;
    this.opts.results.outcome(
      {
        type: "outcome",
        classIndex: item.info.index,
        test: label,
        description: `tearDownClass (${label})`,
        outcome: "error",
        traceback,
      },
      slot,
    );
    if (this.opts.failfast) this.opts.queue.stop();
  }

  private reportLost(item: WorkItem, tests: TestInfo[], slot: number, traceback: (test: string) => string): void {
    const { results } = this.opts;
    for (const test of tests) {
      if (!this.reportedStart.has(test.id)) {
        this.reportedStart.add(test.id);
        results.testStarted(test.id, item.info.index, slot);
      }
      results.outcome(
        {
          type: "outcome",
          classIndex: item.info.index,
          test: test.id,
          description: test.description,
          outcome: "error",
          traceback: traceback(test.id),
        },
        slot,
      );
    }
    if (this.opts.failfast && tests.length > 0) this.opts.queue.stop();
  }

  private resolveRetry(item: WorkItem, result: RetryResult): void {
    const retried = this.retryOf.get(item);
    if (!retried) return;
    this.retryOf.delete(item);
    retried.incident.retry = result;
    this.opts.onEvent?.({
      type: "retryDone",
      label: item.record.label,
      slot: retried.incident.slot,
      result,
    });
  }

  /** A worker died before it was ready: never respawned; the first one fails the run. */
  private startFailed(worker: Worker): void {
    const why = worker.killed?.message ?? `its process ${this.describeExit(worker)}`;
    const message = `worker ${worker.slot} could not start: ${why}`;
    this.startFailure(worker.slot, worker.pid ?? null, why);
    if (!this.anyReady) {
      // Every worker runs the same code: when none has started yet, none will.
      this.fail(new WorkerStartError(`${message}; its error is printed above`));
      return;
    }
    this.checkDone();
  }

  /** Records that a slot could not (or can no longer) get a working worker. */
  private startFailure(slot: number, pid: number | null, message: string): void {
    const incident: Incident = {
      kind: "startFailure",
      slot,
      pid,
      message,
      label: null,
      test: null,
      elapsed: null,
      stacks: null,
      retry: null,
    };
    this.incidents.push(incident);
    this.emitIncident(incident);
  }

  /**
   * A fresh worker in the lost worker's slot, if there is work left for it. A class that was cut
   * short outside a transaction (TransactionTestCase and the like) may have left rows behind:
   * then the slot gets fresh clones first. A TestCase's transaction died with its connection.
   */
  private replace(lost: Worker, cutShort: TestClassInfo | undefined): void {
    const workLeft = !this.opts.queue.isStopped && this.opts.queue.remaining.length > 0;
    if (!workLeft) return;
    const needsFreshClones = cutShort !== undefined && cutShort.kind !== "TestCase" && cutShort.databases.length > 0;
    const start = (): void => {
      this.replacing.delete(lost.slot);
      if (this.finished || this.stopping || this.interrupted) return;
      this.startWorker(lost.slot, lost.generation + 1);
    };
    if (!needsFreshClones || !this.opts.refreshSlot) return start();
    this.replacing.add(lost.slot);
    const refresh = this.opts.refreshSlot(lost.slot).then(start, (error: unknown) => {
      this.replacing.delete(lost.slot);
      this.startFailure(
        lost.slot,
        null,
        `its clones could not be made again, so the slot is not used any more: ${(error as Error).message}`,
      );
      this.dispatchIdle();
      this.checkDone();
    });
    // The teardown must not drop clones while they are being made again: stop() waits.
    this.refreshes.add(refresh);
    void refresh.finally(() => this.refreshes.delete(refresh));
  }

  /** Remaining items as errors (nobody can run them), and queued retries as the crash they answer. */
  private reportNotRun(why: string): void {
    for (const item of this.opts.queue.drain()) this.reportUnrun(item, why);
  }

  private reportUnrun(item: WorkItem, why: string): void {
    this.opts.results.classStarted(item.record, 0);
    const retried = this.retryOf.get(item);
    this.reportLost(item, item.record.tests, 0, (test) =>
      retried && test === retried.running
        ? `WorkerCrash: ${retried.why}; the retry could not run (${why})\n`
        : `NotRun: ${why}\n`,
    );
    this.resolveRetry(item, "not run");
    this.opts.results.classFinished(item.record.index, why);
  }

  // --- the end of a run ------------------------------------------------------------------------

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.ticker) clearInterval(this.ticker);
    // Retries that never ran (failfast, interrupt): their crash still needs a result.
    const pending = this.opts.queue.remaining.filter((item) => this.retryOf.has(item));
    for (const item of pending)
      this.reportUnrun(item, this.interrupted ? "the run was interrupted" : "the run stopped early");
    this.resolveDone();
  }

  private fail(error: Error): void {
    if (this.finished) return;
    this.finished = true;
    if (this.ticker) clearInterval(this.ticker);
    for (const w of this.workers.values()) {
      if (w.state !== "lost") w.state = "stopping";
      if (w.pid) killQuietly(w.pid, "SIGKILL");
    }
    this.rejectDone(error);
  }

  /** Ctrl-C / SIGTERM: stop handing out work and kill the workers; running classes are abandoned. */
  interrupt(): void {
    if (this.interrupted) return;
    this.interrupted = true;
    this.opts.queue.stop();
    for (const w of this.workers.values()) {
      if (w.item && (w.state === "busy" || w.state === "killing")) {
        this.opts.results.classFinished(w.item.record.index, "interrupted");
        const retried = this.retryOf.get(w.item);
        if (retried) this.resolveRetry(w.item, "not run");
      }
      if (w.state !== "lost") w.state = "stopping";
      if (w.pid) killQuietly(w.pid, "SIGKILL");
    }
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
    if (this.ticker) clearInterval(this.ticker);
    await Promise.allSettled([...this.refreshes]);
    for (const w of this.workers.values()) {
      if (w.state === "lost") continue;
      w.state = "stopping";
      w.channel?.send({ type: "stop" });
    }
    // Forks asked for just before the end: wait briefly for their pids so they can be killed.
    const forkDeadline = Date.now() + 2000;
    while (this.pendingForks.size > 0 && !this.opts.bridge.channel.closed && Date.now() < forkDeadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const pids = (): number[] => [...this.byPid.keys()].filter((pid) => alive(pid));
    const deadline = Date.now() + graceMs;
    while (pids().length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const pid of pids()) killQuietly(pid, "SIGKILL");
    for (const w of this.workers.values()) if (w.exitWait) clearTimeout(w.exitWait);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  // --- what the progress line shows --------------------------------------------------------------

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

/**
 * Seconds of silence after which a worker counts as frozen: half the timeout, at least 5 s (a
 * busy machine can delay a heartbeat by a second or two), at most a minute.
 */
export function hungAfter(timeout: number): number {
  return Math.min(60, Math.max(5, timeout / 2));
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => (line ? `  ${line}` : line))
    .join("\n");
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (exited, not yet reaped by its parent) is gone for our purposes.
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return true;
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

// The worker pool: one Python process per clone slot, each pulling TestCase classes from the
// queue, streaming results back, supervised for crashes. Workers are forked from the warm
// bridge process (fast, like Django's fork) or spawned as fresh interpreters.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import type { BridgeClient } from "../bridge/client.ts";
import type { SlotDatabases } from "../clones.ts";
import { Channel } from "../protocol/channel.ts";
import type { FromWorker, TestClassInfo, ToWorker, WorkerExited } from "../protocol/messages.ts";
import type { RunResults } from "../results.ts";
import type { WorkQueue } from "../scheduler.ts";

type ConfigureMessage = Extract<ToWorker, { type: "configure" }>;

export interface PoolOptions {
  slots: SlotDatabases[];
  startMethod: "fork" | "spawn";
  bridge: BridgeClient;
  python: string;
  env: NodeJS.ProcessEnv;
  configure: Omit<ConfigureMessage, "type" | "clones">;
  queue: WorkQueue;
  results: RunResults;
  /** Called on the first failure or error when --failfast is on. */
  failfast: boolean;
}

interface WorkerState {
  slot: number;
  pid?: number;
  channel?: Channel<FromWorker, ToWorker>;
  child?: ChildProcess;
  state: "starting" | "idle" | "busy" | "stopping" | "gone";
  current?: TestClassInfo;
  started: Set<string>;
  stopped: Set<string>;
  exit?: { code: number | null; signal: number | string | null };
}

export class WorkerStartError extends Error {}

export class WorkerPool {
  private readonly server: Server;
  private readonly dir: string;
  readonly socketPath: string;
  private readonly workers = new Map<number, WorkerState>();
  private resolveDone!: () => void;
  private rejectDone!: (error: Error) => void;
  private readonly done: Promise<void>;
  private finished = false;
  /** Seconds from asking for workers to the last one being ready. */
  readyAt?: number;

  constructor(private readonly opts: PoolOptions) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), "dct-"));
    this.socketPath = path.join(this.dir, "workers.sock");
    this.server = createServer((socket) => this.accept(socket));
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    opts.bridge.channel.on("message", (message) => {
      if (message.type === "workerExited") this.onExit(message);
      if (message.type === "forked") {
        const w = this.workers.get(message.slot);
        if (w) w.pid = message.pid;
      }
    });
  }

  /** Start every worker and run the queue dry; resolves when all handed-out work is back. */
  async run(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(this.socketPath, resolve));
    for (const { slot } of this.opts.slots) {
      this.workers.set(slot, { slot, state: "starting", started: new Set(), stopped: new Set() });
    }
    const slots = this.opts.slots.map((s) => s.slot);
    if (this.opts.startMethod === "fork") {
      this.opts.bridge.forkWorkers(this.socketPath, slots);
    } else {
      for (const slot of slots) this.spawnWorker(slot);
    }
    if (slots.length === 0) this.finish();
    return this.done;
  }

  private spawnWorker(slot: number): void {
    const child = spawn(
      this.opts.python,
      ["-m", "django_concurrent_test.worker", "--socket", this.socketPath, "--slot", String(slot)],
      { stdio: ["ignore", "inherit", "inherit"], env: this.opts.env },
    );
    const worker = this.workers.get(slot)!;
    worker.child = child;
    worker.pid = child.pid;
    child.on("exit", (code, signal) => this.onExit({ type: "workerExited", slot, pid: child.pid ?? 0, code, signal: null }, signal));
  }

  private accept(socket: Socket): void {
    const channel = new Channel<FromWorker, ToWorker>(socket);
    let worker: WorkerState | undefined;
    channel.on("message", (message) => {
      if (message.type === "hello") {
        worker = this.workers.get(message.slot);
        if (!worker) return channel.close();
        worker.channel = channel;
        worker.pid = message.pid;
        const clones = this.opts.slots.find((s) => s.slot === message.slot)!.clones;
        channel.send({ type: "configure", ...this.opts.configure, clones });
        return;
      }
      if (worker) this.onMessage(worker, message);
    });
    channel.on("close", () => {
      if (worker) this.onGone(worker);
    });
  }

  private onMessage(worker: WorkerState, message: FromWorker): void {
    const { results } = this.opts;
    switch (message.type) {
      case "ready":
        worker.state = "idle";
        results.emit("workerReady", worker.slot, worker.pid ?? 0);
        if ([...this.workers.values()].every((w) => w.state !== "starting")) this.readyAt ??= results.now();
        this.dispatch(worker);
        break;
      case "testStart":
        worker.started.add(message.test);
        results.testStarted(message.test, message.classIndex, worker.slot);
        break;
      case "testStop":
        worker.stopped.add(message.test);
        results.testStopped(message, worker.slot);
        break;
      case "outcome":
        results.outcome(message, worker.slot);
        if (this.opts.failfast && (message.outcome === "failure" || message.outcome === "error")) {
          this.opts.queue.stop();
        }
        break;
      case "classDone":
        results.classFinished(message.classIndex);
        worker.current = undefined;
        worker.state = "idle";
        this.dispatch(worker);
        break;
      default:
        break;
    }
  }

  private dispatch(worker: WorkerState): void {
    if (worker.state !== "idle" || !worker.channel) return;
    const next = this.opts.queue.next();
    if (next) {
      worker.state = "busy";
      worker.current = next;
      worker.started.clear();
      worker.stopped.clear();
      this.opts.results.classStarted(next, worker.slot);
      worker.channel.send({ type: "run", classIndex: next.index });
      return;
    }
    if ([...this.workers.values()].every((w) => w.state !== "busy" && w.state !== "starting")) this.finish();
  }

  private onExit(message: WorkerExited, signalName?: NodeJS.Signals | null): void {
    const worker = this.workers.get(message.slot);
    if (!worker || (message.pid && worker.pid && message.pid !== worker.pid)) return;
    worker.exit = { code: message.code, signal: signalName ?? message.signal };
    // A worker that exits without ever connecting shows up only here.
    if (!worker.channel) this.onGone(worker);
  }

  /** The worker's channel closed: expected after stop, a crash otherwise. */
  private onGone(worker: WorkerState): void {
    const previous = worker.state;
    worker.state = "gone";
    if (previous === "stopping" || previous === "gone") return this.checkAllGone();
    if (previous === "starting") {
      if ([...this.workers.values()].every((w) => w.state === "gone")) {
        this.rejectDone(new WorkerStartError("no worker could start; see the output above for the error"));
        return;
      }
      this.dispatchIdle();
      return;
    }
    if (previous === "busy" && worker.current) this.reportLostClass(worker, worker.current);
    this.dispatchIdle();
    if ([...this.workers.values()].every((w) => w.state === "gone") && !this.finished) {
      // Nobody left to run what remains: report it rather than lose it.
      this.reportNotRun("no worker left to run it");
      this.finish();
    }
  }

  private describeExit(worker: WorkerState): string {
    const exit = worker.exit;
    if (!exit) return "the worker process died";
    if (exit.signal) return `the worker process was killed by signal ${exit.signal}`;
    return `the worker process exited with status ${exit.code}`;
  }

  /** A class whose worker died: its running test and unstarted tests become errors. */
  private reportLostClass(worker: WorkerState, info: TestClassInfo): void {
    const why = this.describeExit(worker);
    for (const test of info.tests) {
      if (worker.stopped.has(test.id)) continue;
      const running = worker.started.has(test.id);
      if (!running) this.opts.results.testStarted(test.id, info.index, worker.slot);
      this.opts.results.outcome(
        {
          type: "outcome",
          classIndex: info.index,
          test: test.id,
          description: test.description,
          outcome: "error",
          traceback: running ? `WorkerCrash: ${why} while running this test\n` : `NotRun: ${why} before this test started\n`,
        },
        worker.slot,
      );
    }
    this.opts.results.classFinished(info.index, why);
    worker.current = undefined;
  }

  private reportNotRun(why: string): void {
    let info: TestClassInfo | undefined;
    while ((info = this.opts.queue.next())) {
      this.opts.results.classStarted(info, 0);
      for (const test of info.tests) {
        this.opts.results.testStarted(test.id, info.index, 0);
        this.opts.results.outcome(
          { type: "outcome", classIndex: info.index, test: test.id, description: test.description, outcome: "error", traceback: `NotRun: ${why}\n` },
          0,
        );
      }
      this.opts.results.classFinished(info.index, why);
    }
  }

  private dispatchIdle(): void {
    for (const w of this.workers.values()) if (w.state === "idle") this.dispatch(w);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.resolveDone();
  }

  /** Stop handing out work (e.g. Ctrl-C); running classes are abandoned. */
  interrupt(): void {
    this.opts.queue.stop();
    for (const w of this.workers.values()) {
      if (w.state === "busy" && w.current) this.opts.results.classFinished(w.current.index, "interrupted");
      if (w.pid && w.state !== "gone") killQuietly(w.pid, "SIGKILL");
      w.state = "stopping";
    }
    this.finish();
  }

  /** Ask idle workers to exit, wait for them, kill stragglers. */
  async stop(graceMs = 10_000): Promise<void> {
    for (const w of this.workers.values()) {
      if (w.state === "gone") continue;
      w.state = "stopping";
      w.channel?.send({ type: "stop" });
    }
    const deadline = Date.now() + graceMs;
    while ([...this.workers.values()].some((w) => w.state !== "gone" && w.pid && alive(w.pid)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const w of this.workers.values()) if (w.pid && alive(w.pid)) killQuietly(w.pid, "SIGKILL");
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private checkAllGone(): void {}
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

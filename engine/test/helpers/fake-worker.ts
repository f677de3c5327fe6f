// Scripted fake workers for the pool's unit tests. A FakeLauncher stands in for the fork and
// spawn launchers: each "process" it starts lives in this Node process but speaks the real
// protocol over the pool's real Unix socket, through the engine's own Channel (hello, configure,
// ready, attach, run, heartbeats, stop), so the pool's state machine runs in milliseconds. A
// script says what each test does on each worker: pass, fail, hang, freeze, crash the process,
// raise KeyboardInterrupt. Every message either way is checked against protocol.schema.json.
import { appendFileSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import path from "node:path";
import { Ajv } from "ajv";
import { Channel } from "../../src/protocol/channel.ts";
import {
  PROTOCOL_VERSION,
  type FromWorker,
  type Outcome,
  type TestClassInfo,
  type ToWorker,
} from "../../src/protocol/messages.ts";
import type { LaunchTarget, ProcessExit, WorkerLauncher } from "../../src/workers/processes.ts";

const schemaPath = path.resolve(import.meta.dirname, "..", "..", "..", "protocol", "protocol.schema.json");
const validate = new Ajv({ strict: false }).compile(JSON.parse(readFileSync(schemaPath, "utf8")));

/** What one test does when a fake worker runs it. */
export type Step =
  | { outcome: Outcome; ms?: number }
  /** Runs forever; the heartbeat goes on (a slow or waiting test). */
  | { hang: true }
  /** Everything stops, the heartbeat too (a deadlock, a stopped process). */
  | { freeze: true }
  /** The process dies: an exit status or a fatal signal; faulthandler's stacks if `stacks`. */
  | { crash: ProcessExit; stacks?: boolean }
  /** The test raises KeyboardInterrupt. */
  | { keyboardInterrupt: true };

/** How a worker answers configure: ready, exit before it is ready, or never answer. */
export type StartStep = "ready" | "silent" | ProcessExit;

export interface Script {
  /** What `test` does on `worker` (default: it passes). */
  test?: (test: string, worker: FakeWorker) => Step;
  /** How a worker starts: ready (default), exits before ready, or never answers configure. */
  start?: (worker: FakeWorker) => StartStep | Promise<StartStep>;
}

/** Test ids of a class, as the discovery of a fake project gives them. */
export function fakeClass(
  index: number,
  label: string,
  tests: string[],
  more: Partial<TestClassInfo> = {},
): TestClassInfo {
  return {
    index,
    label,
    kind: "TestCase",
    file: null,
    line: null,
    databases: ["default"],
    serializedRollback: false,
    tests: tests.map((t) => ({ id: `${label}.${t}`, description: `${t} (${label}.${t})` })),
    ...more,
  };
}

let nextPid = 700_000;

export class FakeLauncher implements WorkerLauncher {
  /** Every worker started, in order (a slot's replacements have a higher generation). */
  readonly workers: FakeWorker[] = [];
  /** Messages that do not match the protocol's schema, either way. */
  readonly protocolErrors: string[] = [];

  constructor(
    readonly classes: readonly TestClassInfo[],
    readonly script: Script = {},
  ) {}

  launch(targets: readonly LaunchTarget[], socketPath: string): void {
    for (const target of targets) {
      const generation = this.workers.filter((w) => w.slot === target.slot).length + 1;
      const worker = new FakeWorker(this, target, generation, nextPid++);
      this.workers.push(worker);
      worker.start(socketPath);
    }
  }

  signal(pid: number, signal: NodeJS.Signals): boolean {
    const worker = this.workers.find((w) => w.pid === pid);
    if (!worker || worker.exit) return false;
    worker.signals.push(signal);
    if (signal === "SIGKILL") worker.die({ code: null, signal: "SIGKILL" });
    if (signal === "SIGUSR1") worker.dumpStacks();
    return true;
  }

  isAlive(pid: number): boolean {
    const worker = this.workers.find((w) => w.pid === pid);
    return worker !== undefined && !worker.exit;
  }

  async settle(): Promise<void> {}

  /** The workers of one slot, first to last. */
  slot(slot: number): FakeWorker[] {
    return this.workers.filter((w) => w.slot === slot);
  }

  check(direction: string, message: unknown): void {
    if (!validate(message)) this.protocolErrors.push(`${direction} ${JSON.stringify(message)}`);
  }
}

/** One fake worker process. */
export class FakeWorker {
  readonly slot: number;
  configure?: Extract<ToWorker, { type: "configure" }>;
  readonly attaches: Extract<ToWorker, { type: "attach" }>[] = [];
  /** Each `run` it was sent: the class, and the tests it was limited to. */
  readonly runs: { label: string; tests: string[] | null }[] = [];
  readonly signals: NodeJS.Signals[] = [];
  exit?: ProcessExit;
  stoppedAsked = false;
  private channel?: Channel<ToWorker, FromWorker>;
  private heartbeat?: NodeJS.Timeout;
  private frozen = false;
  private runningTest?: string;

  constructor(
    private readonly launcher: FakeLauncher,
    private readonly target: LaunchTarget,
    readonly generation: number,
    readonly pid: number,
  ) {
    this.slot = target.slot;
  }

  start(socketPath: string): void {
    // Like the bridge answering forkWorkers: the pid comes a moment after the request.
    setImmediate(() => {
      if (this.exit) return;
      this.target.onPid(this.pid);
      const socket = connect(socketPath);
      this.channel = new Channel<ToWorker, FromWorker>(socket);
      this.channel.on("message", (message) => this.receive(message));
      socket.on("connect", () =>
        this.send({ type: "hello", role: "worker", protocol: PROTOCOL_VERSION, slot: this.slot, pid: this.pid }),
      );
    });
  }

  private send(message: FromWorker): void {
    if (this.exit || this.frozen) return;
    this.launcher.check("worker->engine", message);
    this.channel?.send(message);
  }

  private receive(message: ToWorker): void {
    this.launcher.check("engine->worker", message);
    if (this.exit || this.frozen) return;
    if (message.type === "configure") void this.configured(message);
    if (message.type === "attach") {
      this.attaches.push(message);
      this.send({ type: "attached", slot: this.slot });
    }
    if (message.type === "run") void this.runClass(message.classIndex, message.tests ?? null);
    if (message.type === "stop") {
      this.stoppedAsked = true;
      this.die({ code: 0, signal: null });
    }
  }

  private async configured(message: Extract<ToWorker, { type: "configure" }>): Promise<void> {
    this.configure = message;
    const start = (await this.launcher.script.start?.(this)) ?? "ready";
    if (start === "silent" || this.exit) return;
    if (start !== "ready") return this.die(start);
    const seconds = message.supervision?.heartbeatSeconds ?? 1;
    this.heartbeat = setInterval(() => this.send({ type: "heartbeat", slot: this.slot }), seconds * 1000);
    this.send({ type: "ready", slot: this.slot });
  }

  private async runClass(classIndex: number, only: string[] | null): Promise<void> {
    const info = this.launcher.classes.find((c) => c.index === classIndex)!;
    this.runs.push({ label: info.label, tests: only });
    this.send({ type: "classStart", classIndex, slot: this.slot });
    for (const test of info.tests.filter((t) => only === null || only.includes(t.id))) {
      this.runningTest = test.id;
      this.send({ type: "testStart", classIndex, test: test.id });
      const step = this.launcher.script.test?.(test.id, this) ?? { outcome: "success" };
      const outcome = await this.perform(step);
      if (this.exit || outcome === null) return;
      this.send({ type: "outcome", classIndex, test: test.id, description: test.description, outcome });
      this.send({ type: "testStop", classIndex, test: test.id, duration: 0.001 });
    }
    this.runningTest = undefined;
    this.send({ type: "classDone", classIndex, slot: this.slot });
  }

  /** Does what the step says; the test's outcome, or null when the test never ends. */
  private async perform(step: Step): Promise<Outcome | null> {
    if ("outcome" in step) {
      await new Promise((r) => setTimeout(r, step.ms ?? 1));
      return step.outcome;
    }
    if ("crash" in step) {
      if (step.stacks) this.dumpStacks();
      this.die(step.crash);
    } else if ("freeze" in step) {
      this.frozen = true;
      clearInterval(this.heartbeat);
    } else if ("keyboardInterrupt" in step) {
      const classIndex = this.launcher.classes.find((c) => c.tests.some((t) => t.id === this.runningTest))!.index;
      this.send({ type: "keyboardInterrupt", classIndex, slot: this.slot, test: this.runningTest! });
    }
    return null; // hang, or any of the above: the test has no end of its own
  }

  /** What faulthandler writes (SIGUSR1, or a fatal signal): the stack of the running test. */
  dumpStacks(): void {
    const file = this.configure?.supervision?.stackFile;
    if (!file || this.frozen) return;
    const method = this.runningTest?.split(".").pop() ?? "serve";
    appendFileSync(
      file,
      `Current thread 0x00007f0b8d9d2740 (most recent call first):\n  File "/app/tests.py", line 18 in ${method}\n\n`,
    );
  }

  /** The process ends: its socket closes, and the launcher reports its exit a moment later. */
  die(exit: ProcessExit): void {
    if (this.exit) return;
    this.exit = exit;
    clearInterval(this.heartbeat);
    this.channel?.socket.destroy();
    setImmediate(() => this.target.onExit(exit));
  }
}

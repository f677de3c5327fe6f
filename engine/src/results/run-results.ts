// Aggregated results of a run: fed by worker events as they stream (workers/), read by every
// reporter (reporters/). Above scheduling/, whose timings and shards only see the parts they read.
import { EventEmitter } from "node:events";
import type { Outcome, OutcomeEvent, TestClassInfo, TestStop } from "../protocol/messages.ts";
import type { ShardInfo } from "../scheduling/sharding.ts";

export interface TestRecord {
  id: string;
  classIndex: number;
  description: string;
  slot: number;
  /** Milliseconds since the run started. */
  startedAt: number;
  duration: number;
  outcomes: OutcomeEvent[];
  stdout?: string;
  stderr?: string;
}

export interface ClassRecord {
  info: TestClassInfo;
  slot: number;
  startedAt: number;
  finishedAt?: number;
  /** Set when the class could not finish: the worker died, timed out or the run was interrupted. */
  interrupted?: string;
}

export interface ProblemEntry {
  flavour: "ERROR" | "FAIL";
  event: OutcomeEvent;
}

export type Phase = "discovery" | "template" | "clones" | "workerStart" | "tests" | "teardown";

export interface ResultEvents {
  outcome: [OutcomeEvent, number];
  testStop: [TestStop, number];
  classStart: [ClassRecord];
  classDone: [ClassRecord];
  workerReady: [number, number];
  /** A worker started before the clones existed now uses its slot's clones. */
  workerAttached: [number];
  phase: [Phase, "start" | "end", number];
}

export class RunResults extends EventEmitter<ResultEvents> {
  readonly startedAt = performance.now();
  /** Wall-clock time (ms since the epoch) the run started: reports turn offsets into timestamps. */
  readonly startedWall = Date.now();
  /** Per worker slot: milliseconds since the run started when it said it was ready. */
  readonly workerReadyAt = new Map<number, number>();
  /** Set when --shard ran only part of the suite. */
  shard?: ShardInfo;
  readonly tests = new Map<string, TestRecord>();
  readonly classes = new Map<number, ClassRecord>();
  /** Errors then failures are printed; within each, in arrival order (as unittest does). */
  readonly problems: ProblemEntry[] = [];
  readonly counts: Record<Outcome, number> = {
    success: 0,
    failure: 0,
    error: 0,
    skip: 0,
    expectedFailure: 0,
    unexpectedSuccess: 0,
  };
  testsRun = 0;
  readonly phases: Partial<Record<Phase, { start: number; end?: number }>> = {};
  classList: TestClassInfo[] = [];

  constructor() {
    super();
    this.on("workerReady", (slot) => {
      if (!this.workerReadyAt.has(slot)) this.workerReadyAt.set(slot, this.now());
    });
  }

  now(): number {
    return performance.now() - this.startedAt;
  }

  phaseStart(phase: Phase): void {
    this.phases[phase] = { start: this.now() };
    this.emit("phase", phase, "start", this.phases[phase]!.start);
  }

  phaseEnd(phase: Phase): void {
    const p = this.phases[phase];
    if (p && p.end === undefined) {
      p.end = this.now();
      this.emit("phase", phase, "end", p.end);
    }
  }

  phaseSeconds(phase: Phase): number {
    const p = this.phases[phase];
    return p && p.end !== undefined ? (p.end - p.start) / 1000 : 0;
  }

  classStarted(info: TestClassInfo, slot: number): void {
    const record: ClassRecord = { info, slot, startedAt: this.now() };
    this.classes.set(info.index, record);
    this.emit("classStart", record);
  }

  classFinished(index: number, interrupted?: string): void {
    const record = this.classes.get(index);
    if (!record) return;
    record.finishedAt = this.now();
    if (interrupted) record.interrupted = interrupted;
    this.emit("classDone", record);
  }

  testStarted(id: string, classIndex: number, slot: number): void {
    this.testsRun++;
    const info = this.classList[classIndex]?.tests.find((t) => t.id === id);
    this.tests.set(id, {
      id,
      classIndex,
      description: info?.description ?? id,
      slot,
      startedAt: this.now(),
      duration: 0,
      outcomes: [],
    });
  }

  testStopped(event: TestStop, slot: number): void {
    const record = this.tests.get(event.test);
    if (record) {
      record.duration = event.duration;
      if (event.stdout) record.stdout = event.stdout;
      if (event.stderr) record.stderr = event.stderr;
    }
    this.emit("testStop", event, slot);
  }

  outcome(event: OutcomeEvent, slot: number): void {
    this.counts[event.outcome]++;
    const owner = event.parent ?? event.test;
    let record = this.tests.get(owner);
    if (!record) {
      // Class- or module-level errors (setUpClass) come without a startTest, as in unittest.
      record = {
        id: owner,
        classIndex: event.classIndex,
        description: event.description,
        slot,
        startedAt: this.now(),
        duration: 0,
        outcomes: [],
      };
      this.tests.set(owner, record);
    }
    record.outcomes.push(event);
    if (event.outcome === "error") this.problems.push({ flavour: "ERROR", event });
    if (event.outcome === "failure") this.problems.push({ flavour: "FAIL", event });
    this.emit("outcome", event, slot);
  }

  get failures(): number {
    return this.counts.failure;
  }

  get errors(): number {
    return this.counts.error;
  }

  /** Django's suite_result: failures + errors + unexpected successes. */
  get failedCount(): number {
    return this.counts.failure + this.counts.error + this.counts.unexpectedSuccess;
  }

  get wasSuccessful(): boolean {
    return this.failedCount === 0;
  }

  /** Django's "Ran N tests in X": its clock starts once setup_databases returned, so here from
   * the clones being ready (classes that ran while they were made cost no extra time). */
  get testSeconds(): number {
    const tests = this.phases.tests;
    if (!tests || tests.end === undefined) return 0;
    const ready = Math.min(tests.end, Math.max(tests.start, this.phases.clones?.end ?? tests.start));
    return (tests.end - ready) / 1000;
  }
}

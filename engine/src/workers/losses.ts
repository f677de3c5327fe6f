// Losses: what a lost worker means for its tests, and the retry policy. A worker that crashed
// (died by itself) has its unfinished tests queued once more for a fresh worker, up to
// crashRetries times; one the pool killed (timeout, frozen) has its running test reported as the
// reason and its unstarted tests as not run. Every loss is an Incident (incidents.ts), and a
// retry's result is told as the outcome of the incident it answers, not as a new one.
import type { TestClassInfo, TestInfo } from "../protocol/messages.ts";
import type { RunResults } from "../results/run-results.ts";
import type { WorkItem, WorkQueue } from "../scheduling/queue.ts";
import type { Timings } from "../scheduling/timings.ts";
import type { Incident, RetryResult, WorkerEvent } from "./incidents.ts";
import { cleanStacks, readFrom } from "./stacks.ts";
import type { Worker } from "./worker.ts";

export interface LossesOptions {
  queue: WorkQueue;
  results: RunResults;
  /** Estimates for retried work (ETA). */
  timings: Timings;
  /** Stop handing out work after the first failure or error (--failfast). */
  failfast: boolean;
  /** How often a class cut short by a crash runs again on a fresh worker (0: never). */
  crashRetries: number;
  /** Told of every worker lost and of every retry's result (the event log). */
  onEvent?: (event: WorkerEvent) => void;
}

/** A retry item's origin: the incident it answers and the test that was running then. */
interface RetryOf {
  incident: Incident;
  running: string | null;
  why: string;
}

export class Losses {
  readonly incidents: Incident[] = [];
  private readonly retryOf = new Map<WorkItem, RetryOf>();
  /** Tests whose start was reported (a retry must not count them twice). */
  private readonly reportedStart = new Set<string>();

  constructor(private readonly opts: LossesOptions) {}

  /** Reports a test's start to the results, once, however often it runs. */
  reportStart(test: string, classIndex: number, slot: number): void {
    if (this.reportedStart.has(test)) return;
    this.reportedStart.add(test);
    this.opts.results.testStarted(test, classIndex, slot);
  }

  /** A ready worker is gone mid-run (crashed, or killed by supervision): its incident and its item. */
  workerLost(worker: Worker): void {
    const item = worker.item;
    const incident = incidentOf(worker);
    // A retry that is lost again is told as the outcome of the first incident, not a new one.
    if (!item || !this.retryOf.has(item)) this.incidents.push(incident);
    if (item) this.lostItem(worker, item, incident);
    this.emitIncident(incident);
  }

  /** Records that a slot could not (or can no longer) get a working worker. */
  startFailure(slot: number, pid: number | null, message: string): void {
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

  /** An item came back whole; if it was a retry, that is its incident's outcome. */
  itemFinished(item: WorkItem, failed: boolean): void {
    this.resolveRetry(item, failed ? "failed" : "passed");
  }

  /** An item was cut short by an interrupt: a retry among them never got to its end. */
  itemAbandoned(item: WorkItem): void {
    this.resolveRetry(item, "not run");
  }

  /** Remaining items as errors (nobody can run them), and queued retries as the crash they answer. */
  reportNotRun(why: string): void {
    for (const item of this.opts.queue.drain()) this.reportUnrun(item, why);
  }

  /** Retries still queued at the end of the run (failfast, interrupt): their crash needs a result. */
  reportUnrunRetries(why: string): void {
    const pending = this.opts.queue.remaining.filter((item) => this.retryOf.has(item));
    for (const item of pending) this.reportUnrun(item, why);
  }

  /** Reports what a lost worker did not finish, or queues it again after a crash. */
  private lostItem(worker: Worker, item: WorkItem, incident: Incident): void {
    const unfinished = item.record.tests.filter((t) => !worker.done.has(t.id));
    const running = worker.runningTest && !worker.done.has(worker.runningTest) ? worker.runningTest : null;
    if (this.retryOf.has(item)) this.resolveRetry(item, incident.kind === "crash" ? "crashed again" : "timed out");
    worker.item = undefined;
    if (this.mayRetry(item, incident, unfinished)) {
      this.opts.results.classFinished(item.record.index, `${incident.message}; retried`);
      const retry = this.opts.queue.retry(item, unfinished, this.opts.timings);
      incident.retry = "pending";
      this.retryOf.set(retry, { incident, running, why: incident.message });
      return;
    }
    const reason = reasonOf(incident);
    // Every test had its result: the class's own teardown was cut short.
    if (unfinished.length === 0) this.classError(item, worker.slot, `${errorName(incident)}: ${incident.message}\n`);
    this.reportLost(item, unfinished, worker.slot, (test) =>
      test === running
        ? runningTraceback(incident, item)
        : `NotRun: ${notStartedBecause(incident)} before this test started (${reason})\n`,
    );
    this.opts.results.classFinished(item.record.index, reason);
  }

  /** The retry policy: only a crash, only so often, only with tests left, only while work goes on. */
  private mayRetry(item: WorkItem, incident: Incident, unfinished: TestInfo[]): boolean {
    const retries = item.attempt - 1;
    return (
      incident.kind === "crash" &&
      retries < this.opts.crashRetries &&
      unfinished.length > 0 &&
      !this.opts.queue.isStopped
    );
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
    for (const test of tests) {
      this.reportStart(test.id, item.info.index, slot);
      this.opts.results.outcome(
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

  private resolveRetry(item: WorkItem, result: RetryResult): void {
    const retried = this.retryOf.get(item);
    if (!retried) return;
    this.retryOf.delete(item);
    retried.incident.retry = result;
    this.opts.onEvent?.({ type: "retryDone", label: item.record.label, slot: retried.incident.slot, result });
  }

  private emitIncident(incident: Incident): void {
    const { stacks: _stacks, ...event } = incident;
    this.opts.onEvent?.({ type: "workerLost", ...event });
  }
}

/**
 * Whether a slot needs fresh clones before its next worker: a class cut short outside a
 * transaction (TransactionTestCase and the like) may have left rows behind. A TestCase's
 * transaction died with its connection.
 */
export function needsFreshClones(cutShort: TestClassInfo | undefined): boolean {
  return cutShort !== undefined && cutShort.kind !== "TestCase" && cutShort.databases.length > 0;
}

/** How the worker's process ended, in words. */
export function describeExit(worker: Worker): string {
  const exit = worker.exit;
  if (!exit) return "died (its connection closed)";
  if (exit.signal === "SIGKILL")
    return "was killed by signal SIGKILL (the kernel's out-of-memory killer sends SIGKILL too)";
  if (exit.signal) return `was killed by signal ${exit.signal}`;
  return `exited with status ${exit.code}`;
}

function incidentOf(worker: Worker): Incident {
  const item = worker.item;
  return {
    kind: worker.killed?.kind ?? "crash",
    slot: worker.slot,
    pid: worker.pid ?? null,
    message: worker.killed?.message ?? crashMessage(worker),
    label: item?.record.label ?? null,
    test: item ? (worker.runningTest ?? null) : null,
    elapsed: item ? round(((worker.killed?.at ?? performance.now()) - worker.itemStartedAt) / 1000) : null,
    // Fatal signals (segfault, abort) leave faulthandler's stacks in the file.
    stacks: worker.killed?.stacks ?? (cleanStacks(readFrom(worker.stackFile)) || null),
    retry: null,
  };
}

function crashMessage(worker: Worker): string {
  const exit = describeExit(worker);
  if (!worker.item) return `the worker process ${exit} while idle`;
  const where = worker.runningTest
    ? `while running ${worker.runningTest}`
    : `in ${worker.item.record.label} (no test was running: class setup or teardown)`;
  return `the worker process ${exit} ${where}`;
}

function errorName(incident: Incident): string {
  return incident.kind === "crash" ? "WorkerCrash" : "WorkerTimeout";
}

/** The reason a lost class gives (the class record's, and each unstarted test's). */
function reasonOf(incident: Incident): string {
  if (incident.kind === "timeout") return `timed out after ${incident.elapsed}s`;
  if (incident.kind === "hung") return "the worker stopped responding";
  return incident.message;
}

function notStartedBecause(incident: Incident): string {
  if (incident.kind === "crash") return "the worker crashed";
  if (incident.kind === "hung") return "the worker stopped responding";
  return "the class ran out of time";
}

/** The running test's error: what happened, and where the worker was. */
function runningTraceback(incident: Incident, item: WorkItem): string {
  const stacks = incident.stacks
    ? `\nWhere the worker was (most recent call first):\n${indent(incident.stacks)}\n`
    : "";
  const retried = item.attempt > 1 ? " (on the retry after an earlier crash)" : "";
  return `${errorName(incident)}: ${incident.message}${retried}\n${stacks}`;
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

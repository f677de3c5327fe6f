// A WorkerPool on fake workers (fake-worker.ts), with a supervision clock in milliseconds, and
// what its run looks like to a user: each test's outcome and traceback, the incidents.
import type { DjangoOptions, TestClassInfo } from "../../src/protocol/messages.ts";
import { RunResults } from "../../src/results/run-results.ts";
import { WorkQueue } from "../../src/scheduling/queue.ts";
import { makeTimings } from "../../src/scheduling/timings.ts";
import { WorkerPool, type PoolOptions } from "../../src/workers/pool.ts";
import { FakeLauncher, type Script } from "./fake-worker.ts";

const DJANGO: DjangoOptions = {
  verbosity: 1,
  interactive: false,
  failfast: false,
  keepdb: false,
  reverse: false,
  debugMode: false,
  debugSql: false,
  parallel: 0,
  tags: [],
  excludeTags: [],
  testNamePatterns: null,
  pdb: false,
  buffer: false,
  timing: false,
  shuffle: false,
  durations: null,
  pattern: null,
  topLevel: null,
};

export interface FakeRun {
  pool: WorkerPool;
  launcher: FakeLauncher;
  results: RunResults;
  queue: WorkQueue;
  /** What the pool told the event log. */
  events: Record<string, unknown>[];
}

type Overrides = Partial<Omit<PoolOptions, "launcher" | "queue" | "results">>;

export function fakePool(classes: TestClassInfo[], script: Script = {}, overrides: Overrides = {}): FakeRun {
  const launcher = new FakeLauncher(classes, script);
  const results = new RunResults();
  results.classList = classes;
  const timings = makeTimings("/nowhere/timings.json", {});
  const queue = WorkQueue.ofClasses(classes, timings);
  const events: Record<string, unknown>[] = [];
  const pool = new WorkerPool({
    slots: [1],
    launcher,
    configure: {
      options: { buffer: false, failfast: false, debugSql: false },
      serializedAliases: [],
      discover: { labels: [], options: DJANGO },
    },
    queue,
    results,
    failfast: false,
    timeout: 5,
    crashRetries: 1,
    timings,
    onEvent: (event) => events.push(event),
    heartbeatSeconds: 0.02,
    clock: { tickMs: 10, exitWaitMs: 100, stacksWaitMs: 50 },
    ...overrides,
  });
  const run = { pool, launcher, results, queue, events };
  unfinished.add(run);
  return run;
}

const unfinished = new Set<FakeRun>();

/** Stops the pools of tests that gave up on them (timed out), so the file can end. */
export async function stopLeftovers(): Promise<void> {
  for (const run of unfinished) {
    run.pool.interrupt();
    await run.pool.stop(0);
  }
  unfinished.clear();
}

/** Each slot's clones, as clones.ts makes them. */
export function clonesFor(slots: number[]): { slot: number; clones: Record<string, { name: string }> }[] {
  return slots.map((slot) => ({ slot, clones: { default: { name: `test_shop_${slot}` } } }));
}

/** A whole run: start, clones attached at once, the queue run dry, the workers stopped. */
export async function runToEnd(run: FakeRun, slots = [1]): Promise<void> {
  await run.pool.start();
  run.pool.attachDatabases(clonesFor(slots));
  try {
    await run.pool.run();
  } finally {
    await run.pool.stop(500);
    unfinished.delete(run);
  }
}

/** What a user sees of one test: its outcome, and the first line of its traceback. */
export function seen(results: RunResults, test: string): string {
  const record = results.tests.get(test);
  if (!record) return "no result";
  return record.outcomes
    .map((o) => (o.traceback ? `${o.outcome}: ${o.traceback.split("\n")[0]}` : o.outcome))
    .join(" + ");
}

export async function until(condition: () => boolean, what: string, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

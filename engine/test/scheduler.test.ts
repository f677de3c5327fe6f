// The work queue: longest expected first, Django's TestCase-before-TransactionTestCase rule,
// split database-free classes and the work that may run before the databases exist.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ClassKind, TestClassInfo } from "../src/protocol/messages.ts";
import { planWork, RecordIndexes, WorkQueue, type WorkItem } from "../src/scheduling/queue.ts";
import { makeTimings, type ClassTiming } from "../src/scheduling/timings.ts";

let nextIndex = 0;
function cls(label: string, kind: ClassKind, tests: number, extra: Partial<TestClassInfo> = {}): TestClassInfo {
  const databases = kind === "SimpleTestCase" || kind === "unittest" ? [] : ["default"];
  return {
    index: nextIndex++,
    label,
    kind,
    file: null,
    line: null,
    databases,
    serializedRollback: false,
    tests: Array.from({ length: tests }, (_, i) => ({
      id: `${label}.test_${i}`,
      description: `test_${i}`,
    })),
    ...extra,
  };
}

function timingsOf(seconds: Record<string, [number, number]>) {
  const classes: Record<string, ClassTiming> = {};
  for (const [label, [s, tests]] of Object.entries(seconds))
    classes[label] = { seconds: s, tests, runs: 1, updated: "" };
  return makeTimings("/nowhere/timings.json", classes);
}

const labels = (items: WorkItem[]): string[] =>
  items.map((i) => i.record.label + (i.part ? `[${i.part.number}/${i.part.of}]` : ""));

test("longest expected first, from stored timings", () => {
  const classes = [cls("a.Short", "TestCase", 3), cls("a.Long", "TestCase", 3), cls("a.Mid", "TestCase", 3)];
  const timings = timingsOf({
    "a.Short": [1, 3],
    "a.Long": [9, 3],
    "a.Mid": [4, 3],
  });
  const plan = planWork(classes, timings, { workers: 2, order: "expected" });
  assert.deepEqual(labels(plan), ["a.Long", "a.Mid", "a.Short"]);
  assert.deepEqual(
    plan.map((i) => i.expected),
    [9, 4, 1],
  );
});

test("unknown classes are estimated from their test count", () => {
  const classes = [cls("a.Few", "TestCase", 2), cls("a.Many", "TestCase", 40)];
  const plan = planWork(classes, timingsOf({}), {
    workers: 2,
    order: "expected",
  });
  assert.deepEqual(labels(plan), ["a.Many", "a.Few"]);
});

test("every TestCase is handed out before any class that writes outside a transaction", () => {
  const classes = [
    cls("a.Tx", "TransactionTestCase", 1),
    cls("a.Live", "LiveServerTestCase", 1),
    cls("a.Case", "TestCase", 1),
    cls("a.SimpleWithDb", "SimpleTestCase", 1, { databases: ["default"] }),
  ];
  const timings = timingsOf({
    "a.Tx": [50, 1],
    "a.Live": [40, 1],
    "a.Case": [1, 1],
    "a.SimpleWithDb": [30, 1],
  });
  const plan = planWork(classes, timings, { workers: 2, order: "expected" });
  assert.deepEqual(labels(plan), ["a.Case", "a.Tx", "a.Live", "a.SimpleWithDb"]);
});

test("classes without databases fill in: big ones start early, small ones end the run", () => {
  const classes = [
    cls("a.Case", "TestCase", 1),
    cls("a.Tx", "TransactionTestCase", 1),
    cls("a.BigPure", "SimpleTestCase", 1),
    cls("a.SmallPure", "unittest", 1),
  ];
  const timings = timingsOf({
    "a.Case": [5, 1],
    "a.Tx": [10, 1],
    "a.BigPure": [20, 1],
    "a.SmallPure": [2, 1],
  });
  const plan = planWork(classes, timings, { workers: 4, order: "expected" });
  assert.deepEqual(labels(plan), ["a.BigPure", "a.Case", "a.Tx", "a.SmallPure"]);
});

test("a splittable class that would be the tail is cut into consecutive parts", () => {
  const big = cls("a.Big", "SimpleTestCase", 10, { splittable: true });
  const classes = [big, cls("a.Other", "TestCase", 2), cls("a.Third", "TestCase", 2)];
  const timings = timingsOf({
    "a.Big": [20, 10],
    "a.Other": [5, 2],
    "a.Third": [5, 2],
  });
  const indexes = new RecordIndexes(classes);
  const plan = planWork(classes, timings, { workers: 2, order: "expected" }, indexes);
  const parts = plan.filter((i) => i.info === big).sort((a, b) => a.part!.number - b.part!.number);
  // Fair share 15 s per worker; parts of at most half of it: 20 s in 3 parts.
  assert.equal(parts.length, 3);
  assert.deepEqual(
    parts.flatMap((p) => p.record.tests.map((t) => t.id)),
    big.tests.map((t) => t.id),
  );
  // Equal runs of tests: 3, 3 and 4 tests of 2 s each.
  assert.deepEqual(
    parts.map((p) => p.expected),
    [6, 6, 8],
  );
  const partIndexes = parts.map((p) => p.record.index);
  assert.equal(new Set(partIndexes).size, 3);
  assert.ok(
    partIndexes.every((i) => i >= classes.length),
    "parts get indexes of their own",
  );
  assert.ok(
    parts.every((p) => p.info.index === big.index),
    "the worker still runs the discovered class",
  );
});

test("a class that may not be split stays whole however long it is", () => {
  const classes = [
    cls("a.Fixture", "SimpleTestCase", 10, { splittable: false }),
    cls("a.Case", "TestCase", 10, { splittable: true }),
    cls("a.Small", "TestCase", 1),
  ];
  const timings = timingsOf({
    "a.Fixture": [30, 10],
    "a.Case": [30, 10],
    "a.Small": [1, 1],
  });
  const plan = planWork(classes, timings, { workers: 4, order: "expected" });
  assert.equal(plan.length, 3);
  assert.ok(plan.every((i) => !i.part));
});

test("one worker never splits; a one-test class never splits", () => {
  const classes = [
    cls("a.Big", "SimpleTestCase", 10, { splittable: true }),
    cls("a.One", "SimpleTestCase", 1, { splittable: true }),
  ];
  const timings = timingsOf({ "a.Big": [20, 10], "a.One": [50, 1] });
  assert.equal(planWork(classes, timings, { workers: 1, order: "expected" }).length, 2);
  const plan = planWork(classes, timings, { workers: 8, order: "expected" });
  assert.equal(plan.filter((i) => i.info.label === "a.One").length, 1);
});

test("an order asked for (--reverse, --shuffle) is kept, classes whole", () => {
  const classes = [
    cls("a.Tx", "TransactionTestCase", 1),
    cls("a.Big", "SimpleTestCase", 10, { splittable: true }),
    cls("a.Case", "TestCase", 1),
  ];
  const timings = timingsOf({
    "a.Tx": [50, 1],
    "a.Big": [100, 10],
    "a.Case": [1, 1],
  });
  const plan = planWork(classes, timings, { workers: 4, order: "discovery" });
  assert.deepEqual(labels(plan), ["a.Tx", "a.Big", "a.Case"]);
  assert.ok(plan.every((i) => i.record === i.info));
});

test("a retry goes to the head of the queue with the unfinished tests and an index of its own", () => {
  const classes = [cls("a.A", "TestCase", 3), cls("a.B", "TestCase", 1)];
  const timings = timingsOf({});
  const indexes = new RecordIndexes(classes);
  const queue = new WorkQueue(planWork(classes, timings, { workers: 2, order: "discovery" }, indexes), indexes);
  const first = queue.next()!;
  const retry = queue.retry(first, first.info.tests.slice(1), timings);
  assert.equal(queue.next(), retry);
  assert.equal(retry.attempt, 2);
  assert.equal(retry.info, first.info);
  assert.deepEqual(
    retry.record.tests.map((t) => t.id),
    ["a.A.test_1", "a.A.test_2"],
  );
  assert.ok(retry.record.index >= classes.length);
  assert.equal(queue.next()!.info.label, "a.B");
  assert.equal(queue.next(), undefined);
});

test("a stopped queue hands out nothing but still knows what is left", () => {
  const classes = [cls("a.A", "TestCase", 1), cls("a.B", "TestCase", 1)];
  const queue = WorkQueue.ofClasses(classes, timingsOf({}));
  queue.stop();
  assert.equal(queue.next(), undefined);
  assert.equal(queue.remaining.length, 2);
  assert.equal(queue.drain().length, 2);
  assert.equal(queue.remaining.length, 0);
});

/** Makespan of handing `items` out in order to `workers` workers, each taking the next when free. */
function makespan(items: { expected: number }[], workers: number): number {
  const free = Array.from({ length: workers }, () => 0);
  for (const item of items) {
    const w = free.indexOf(Math.min(...free));
    free[w]! += item.expected;
  }
  return Math.max(...free);
}

test("on an uneven suite the planned order shrinks the tail against discovery order", () => {
  // Small classes first and one big one last: the order discovery often gives.
  const classes = [
    ...Array.from({ length: 12 }, (_, i) => cls(`a.Small${i}`, "TestCase", 2)),
    cls("a.Big", "TestCase", 20),
    cls("a.Pure", "SimpleTestCase", 30, { splittable: true }),
  ];
  const stored: Record<string, [number, number]> = {
    "a.Big": [12, 20],
    "a.Pure": [9, 30],
  };
  for (let i = 0; i < 12; i++) stored[`a.Small${i}`] = [1, 2];
  const timings = timingsOf(stored);
  const discovery = planWork(classes, timings, {
    workers: 4,
    order: "discovery",
  });
  const planned = planWork(classes, timings, { workers: 4, order: "expected" });
  const total = discovery.reduce((s, i) => s + i.expected, 0);
  assert.equal(
    planned.reduce((s, i) => s + i.expected, 0),
    total,
  );
  const before = makespan(discovery, 4);
  const after = makespan(planned, 4);
  assert.ok(after < before, `${after} < ${before}`);
  assert.ok(after <= Math.max(12, total / 4) + 1, `planned makespan ${after} close to the bound`);
});

test("before the databases exist, a worker gets only classes the bridge cleared to run without them", () => {
  const classes = [
    cls("a.Db", "TestCase", 9),
    cls("a.Guarded", "SimpleTestCase", 2, { beforeDatabases: true }),
    cls("a.OwnSetUp", "SimpleTestCase", 5, { beforeDatabases: false }),
    cls("a.Plain", "unittest", 4, { beforeDatabases: true }),
    cls("a.Flagged", "TransactionTestCase", 3, { beforeDatabases: true }),
  ];
  const queue = WorkQueue.ofClasses(classes, makeTimings("/nowhere/timings.json", {}));
  assert.equal(queue.next(false)?.record.label, "a.Guarded");
  assert.equal(queue.next(false), undefined, "nothing else is safe without the databases");
  assert.deepEqual(
    [queue.next(true), queue.next(true), queue.next(true), queue.next(true)].map((i) => i?.record.label),
    ["a.Db", "a.OwnSetUp", "a.Plain", "a.Flagged"],
    "once attached, the rest in order, none lost",
  );
});

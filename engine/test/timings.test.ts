// Stored per-class timings: estimates without a file, merging after a run, what is never stored.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import type { TestClassInfo } from "../src/protocol/messages.ts";
import { RunResults } from "../src/results/run-results.ts";
import {
  DEFAULT_SECONDS_PER_TEST,
  estimateSeconds,
  loadTimings,
  mergeTimings,
  saveTimings,
  timingsPath,
} from "../src/scheduling/timings.ts";

function info(index: number, label: string, tests: number, kind: TestClassInfo["kind"] = "TestCase"): TestClassInfo {
  return {
    index,
    label,
    kind,
    file: null,
    line: null,
    databases: ["default"],
    serializedRollback: false,
    tests: Array.from({ length: tests }, (_, i) => ({
      id: `${label}.test_${i}`,
      description: `test_${i}`,
    })),
  };
}

function tempProject(): string {
  return mkdtempSync(path.join(os.tmpdir(), "dct-timings-"));
}

/** A finished run in which each class took `ms` (clock faked through the records). */
function resultsWith(entries: [TestClassInfo, number, string?][]): RunResults {
  const results = new RunResults();
  results.classList = entries.map(([i]) => i);
  for (const [i, ms, interrupted] of entries) {
    results.classStarted(i, 1);
    results.classFinished(i.index, interrupted);
    const record = results.classes.get(i.index)!;
    record.startedAt = 1000;
    record.finishedAt = 1000 + ms;
  }
  return results;
}

test("no file: estimates come from the test count and the class kind", async () => {
  const dir = tempProject();
  try {
    const timings = await loadTimings(dir);
    assert.deepEqual(timings.classes, {});
    const small = estimateSeconds(timings, info(0, "a.A", 2));
    const big = estimateSeconds(timings, info(1, "a.B", 20));
    assert.ok(big > small);
    const tx = estimateSeconds(timings, info(2, "a.C", 2, "TransactionTestCase"));
    assert.ok(tx > small, "a TransactionTestCase test costs more than a TestCase test");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("save then load: stored seconds win over the estimate, scaled by the test count", async () => {
  const dir = tempProject();
  try {
    const slow = info(0, "app.tests.Slow", 4);
    const fast = info(1, "app.tests.Fast", 4);
    const written = await saveTimings(
      dir,
      resultsWith([
        [slow, 8000],
        [fast, 400],
      ]),
    );
    assert.equal(written, timingsPath(dir));
    const data = JSON.parse(readFileSync(timingsPath(dir), "utf8"));
    assert.equal(data.version, 1);
    assert.equal(data.classes["app.tests.Slow"].seconds, 8);
    assert.equal(data.classes["app.tests.Slow"].tests, 4);
    const timings = await loadTimings(dir);
    assert.equal(estimateSeconds(timings, slow), 8);
    assert.equal(estimateSeconds(timings, { ...slow, tests: slow.tests.slice(0, 2) }), 4);
    assert.equal(estimateSeconds(timings, fast), 0.4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a later run merges: other classes are kept, the same class is smoothed", async () => {
  const dir = tempProject();
  try {
    const a = info(0, "app.tests.A", 2);
    const b = info(1, "app.tests.B", 2);
    await saveTimings(
      dir,
      resultsWith([
        [a, 1000],
        [b, 2000],
      ]),
    );
    await saveTimings(dir, resultsWith([[{ ...a, index: 0 }, 2000]]));
    const data = JSON.parse(readFileSync(timingsPath(dir), "utf8"));
    assert.equal(data.classes["app.tests.B"].seconds, 2);
    assert.equal(data.classes["app.tests.A"].runs, 2);
    assert.ok(data.classes["app.tests.A"].seconds > 1 && data.classes["app.tests.A"].seconds < 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("crashed and interrupted classes are not stored; timed-out ones count as a lower bound", async () => {
  const dir = tempProject();
  try {
    const crashed = info(0, "app.tests.Crashed", 2);
    const cut = info(1, "app.tests.Cut", 2);
    const hung = info(2, "app.tests.Hung", 2);
    await saveTimings(
      dir,
      resultsWith([
        [crashed, 500, "the worker process was killed by signal SIGKILL"],
        [cut, 500, "interrupted"],
        [hung, 3000, "timed out after 3s"],
      ]),
    );
    const data = JSON.parse(readFileSync(timingsPath(dir), "utf8"));
    assert.deepEqual(Object.keys(data.classes), ["app.tests.Hung"]);
    assert.equal(data.classes["app.tests.Hung"].seconds, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a corrupt or foreign file is ignored, and replaced on save", async () => {
  const dir = tempProject();
  try {
    mkdirSync(path.dirname(timingsPath(dir)), { recursive: true });
    writeFileSync(timingsPath(dir), "{not json");
    assert.deepEqual((await loadTimings(dir)).classes, {});
    writeFileSync(timingsPath(dir), JSON.stringify({ version: 99, classes: { x: { seconds: 1, tests: 1 } } }));
    assert.deepEqual((await loadTimings(dir)).classes, {});
    await saveTimings(dir, resultsWith([[info(0, "a.A", 1), 100]]));
    assert.deepEqual(Object.keys((await loadTimings(dir)).classes), ["a.A"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("unknown classes borrow the median seconds per test of measured classes of their kind", async () => {
  const dir = tempProject();
  try {
    const measured = info(0, "a.Measured", 10, "TransactionTestCase");
    await saveTimings(dir, resultsWith([[measured, 10_000]]));
    const unknown = info(1, "a.New", 10, "TransactionTestCase");
    const timings = await loadTimings(dir, [measured, unknown]);
    assert.equal(timings.perTest.TransactionTestCase, 1);
    assert.notEqual(timings.perTest.TransactionTestCase, DEFAULT_SECONDS_PER_TEST.TransactionTestCase);
    assert.ok(Math.abs(estimateSeconds(timings, unknown) - 10) < 0.1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("mergeTimings takes a new measurement outright when the test count changed", () => {
  const merged = mergeTimings(
    { "a.A": { seconds: 10, tests: 10, runs: 4, updated: "" } },
    { "a.A": { seconds: 1, tests: 1 } },
  );
  assert.equal(merged["a.A"]!.seconds, 1);
  assert.equal(merged["a.A"]!.tests, 1);
  assert.equal(merged["a.A"]!.runs, 5);
});

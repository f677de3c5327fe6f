// JUnit XML, benchmark summary, HTML report and merge-reports, on runs whose numbers are known.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { create } from "xmlbuilder2";
import type { RunConfig } from "../src/config/resolve.ts";
import { checkShards, mergeJunit, mergeReportData, mergeTimingsFiles } from "../src/reporters/merge.ts";
import type { BridgeHello, OutcomeEvent, TestClassInfo } from "../src/protocol/messages.ts";
import { benchmarkFigures, benchmarkLines } from "../src/reporters/benchmark.ts";
import { extractReportData, renderHtml } from "../src/reporters/html.ts";
import { reportersFor } from "../src/reporters/index.ts";
import type { ReportContext } from "../src/reporters/reporter.ts";
import { exceptionOf, junitXml, xmlSafe } from "../src/reporters/junit.ts";
import { buildRunData, type ClassData, type RunData, type TestData } from "../src/reporters/report-data.ts";
import { RunResults } from "../src/results/run-results.ts";

const XSD = path.resolve(import.meta.dirname, "../../../shared/data/junit-10.xsd");

function xmllint(xml: string): { status: number | null; output: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "dct-junit-"));
  const file = path.join(dir, "report.xml");
  writeFileSync(file, xml);
  const r = spawnSync("xmllint", ["--noout", "--schema", XSD, file], {
    encoding: "utf8",
  });
  rmSync(dir, { recursive: true, force: true });
  assert.ok(!r.error, `xmllint is needed (Debian's libxml2-utils; make test installs it): ${r.error?.message}`);
  return { status: r.status, output: r.stderr };
}

function testData(
  id: string,
  outcome: TestData["outcomes"][number]["outcome"],
  extra: Partial<TestData> = {},
  o: Partial<TestData["outcomes"][number]> = {},
): TestData {
  return {
    id,
    name: id.split(".").pop()!,
    description: id,
    start: 1,
    duration: 0.25,
    outcomes: [{ outcome, test: id, description: id, subtest: false, ...o }],
    ...extra,
  };
}

function classData(label: string, slot: number, start: number, end: number, tests: TestData[]): ClassData {
  return {
    index: 0,
    label,
    kind: "TestCase",
    file: "app/tests.py",
    line: 10,
    slot,
    start,
    end,
    tests,
  };
}

/** Two workers, tests phase 2..10 s, three classes busy 4 + 6 + 2 = 12 s. */
function fixtureRun(): RunData {
  return {
    hostname: "ci-host",
    startedAt: "2026-01-02T03:04:05.000Z",
    wallSeconds: 11,
    workers: 2,
    shard: null,
    phases: {
      discovery: { start: 0, end: 0.5 },
      template: { start: 0.5, end: 1.5 },
      clones: { start: 1.5, end: 2 },
      tests: { start: 2, end: 10 },
      teardown: { start: 10, end: 11 },
    },
    workerReady: { "1": 2.5, "2": 3 },
    testsRun: 5,
    counts: {
      success: 2,
      failure: 1,
      error: 1,
      skip: 1,
      expectedFailure: 0,
      unexpectedSuccess: 0,
    },
    clones: { clones: 2, errors: 0 },
    classes: [
      classData("app.tests.A", 1, 2.5, 6.5, [
        testData("app.tests.A.test_ok", "success", {
          stdout: "printed\n",
          stderr: "warned\n",
        }),
        testData(
          "app.tests.A.test_fail",
          "failure",
          {},
          {
            traceback:
              'Traceback (most recent call last):\n  File "x.py", line 1, in t\n    f()\nAssertionError: 1 != 2\n',
          },
        ),
      ]),
      classData("app.tests.B", 2, 3, 9, [
        testData(
          "app.tests.B.test_err",
          "error",
          {},
          {
            traceback: 'Traceback (most recent call last):\n  File "x.py", line 1\nValueError: bad\n',
          },
        ),
        testData("app.tests.B.test_skip", "skip", {}, { reason: "not today" }),
      ]),
      classData("app.tests.C", 1, 6.5, 8.5, [testData("app.tests.C.test_ok", "success")]),
    ],
  };
}

test("JUnit XML: one suite per class, outcomes, output and worker slot; valid against junit-10.xsd", () => {
  const xml = junitXml(fixtureRun());
  const lint = xmllint(xml);
  assert.equal(lint.status, 0, lint.output);
  const doc = create(xml).end({ format: "object" }) as unknown as {
    testsuites: Record<string, unknown>;
  };
  assert.equal(doc.testsuites["@tests"], "5");
  assert.equal(doc.testsuites["@failures"], "1");
  assert.equal(doc.testsuites["@errors"], "1");
  assert.match(
    xml,
    /<testsuite name="app\.tests\.A" tests="2" failures="1" errors="0" skipped="0" time="4\.000" timestamp="2026-01-02T03:04:07\+00:00" hostname="ci-host"/,
  );
  assert.match(xml, /<property name="worker" value="2"\/>/);
  assert.match(xml, /<failure type="AssertionError" message="1 != 2">Traceback/);
  assert.match(xml, /<error type="ValueError" message="bad">/);
  assert.match(xml, /<skipped type="skip" message="not today"\/>/);
  assert.match(
    xml,
    /name="test_ok" time="0\.250">\s*<system-out>printed\n<\/system-out>\s*<system-err>warned\n<\/system-err>/,
  );
});

test("JUnit XML: expected failures and unexpected successes as unittest-xml-reporting writes them", () => {
  const run = fixtureRun();
  run.classes = [
    classData("app.tests.X", 1, 2, 3, [
      testData(
        "app.tests.X.test_xfail",
        "expectedFailure",
        {},
        {
          traceback: "Traceback (most recent call last):\nAssertionError: 1 != 2\n",
        },
      ),
      testData("app.tests.X.test_xpass", "unexpectedSuccess"),
    ]),
  ];
  const xml = junitXml(run);
  assert.equal(xmllint(xml).status, 0);
  assert.match(xml, /<skipped type="XFAIL" message="expected failure: 1 != 2">Traceback/);
  assert.match(xml, /<error type="UnexpectedSuccess" message="Unexpected success: [^"]+"\/>/);
  assert.match(xml, /<testsuite name="app\.tests\.X" tests="2" failures="0" errors="1" skipped="1"/);
});

test("JUnit XML: characters XML cannot carry are stripped and the file still validates", () => {
  const nasty = "a\u0000b\u0008c\u001bd\u007fe\u0085f\ud800g\ufffeh\ud83d\ude00i]]>j</testcase>&";
  assert.equal(xmlSafe(nasty), "abcde\u0085fgh\ud83d\ude00i]]>j</testcase>&");
  const run = fixtureRun();
  run.classes = [
    classData("app.tests.N", 1, 2, 3, [
      testData(
        "app.tests.N.test_x",
        "failure",
        { stdout: nasty },
        { traceback: `Traceback\nAssertionError: ${nasty}\n` },
      ),
    ]),
  ];
  const xml = junitXml(run);
  assert.equal(xmllint(xml).status, 0, xmllint(xml).output);
  assert.ok(!xml.includes("\u0000") && !xml.includes("\u001b") && !xml.includes("\ufffe"));
  assert.ok(xml.includes("\ud83d\ude00"), "valid astral characters are kept");
});

test("exceptionOf: type and message from unittest tracebacks, without --buffer output", () => {
  assert.deepEqual(
    exceptionOf(
      'Traceback (most recent call last):\n  File "a.py", line 1\n    x()\npkg.mod.Boom: it broke\nacross lines\n',
    ),
    {
      type: "pkg.mod.Boom",
      message: "it broke\nacross lines",
    },
  );
  assert.deepEqual(
    exceptionOf('Traceback (most recent call last):\n  File "a.py"\nKeyError\n\nStdout:\nnoise: here\n'),
    { type: "KeyError", message: "" },
  );
  const chained =
    'Traceback (most recent call last):\n  File "a.py"\nValueError: first\n\nDuring handling of the above exception, another exception occurred:\n\nTraceback (most recent call last):\n  File "b.py"\nRuntimeError: second\n';
  assert.deepEqual(exceptionOf(chained), {
    type: "RuntimeError",
    message: "second",
  });
});

function contextFor(results: RunResults, workers = 2): ReportContext {
  return {
    results,
    config: { django: { verbosity: 0 } } as RunConfig,
    hello: { cwd: "/project" } as BridgeHello,
    workers,
    cloneStats: { clones: 4, errors: 1 },
    stdout: () => undefined,
    stderr: () => undefined,
  };
}

test("report data from RunResults: subtests and class-level errors become their own test cases", () => {
  const info: TestClassInfo = {
    index: 0,
    label: "app.tests.S",
    kind: "SimpleTestCase",
    file: "/project/app/tests.py",
    line: 3,
    databases: [],
    serializedRollback: false,
    tests: [{ id: "app.tests.S.test_sub", description: "test_sub" }],
  };
  const results = new RunResults();
  results.classList = [info];
  results.classStarted(info, 1);
  results.testStarted("app.tests.S.test_sub", 0, 1);
  const ev = (test: string, outcome: OutcomeEvent["outcome"], parent?: string): OutcomeEvent => ({
    type: "outcome",
    classIndex: 0,
    test,
    description: test,
    outcome,
    traceback: "Traceback\nAssertionError: no\n",
    ...(parent ? { parent } : {}),
  });
  results.outcome(ev("app.tests.S.test_sub (i=1)", "failure", "app.tests.S.test_sub"), 1);
  results.outcome(ev("app.tests.S.test_sub (i=2)", "error", "app.tests.S.test_sub"), 1);
  results.testStopped(
    {
      type: "testStop",
      classIndex: 0,
      test: "app.tests.S.test_sub",
      duration: 0.5,
      stdout: "hi\n",
    },
    1,
  );
  results.outcome(ev("tearDownClass (app.tests.S)", "error"), 1);
  results.classFinished(0);
  const run = buildRunData(contextFor(results));
  assert.equal(run.classes[0]!.file, "app/tests.py", "paths are relative to the project");
  const xml = junitXml(run);
  assert.equal(xmllint(xml).status, 0);
  assert.match(xml, /<testcase classname="app\.tests\.S" name="test_sub \(i=1\)" time="0\.500">\s*<failure/);
  assert.match(xml, /<testcase classname="app\.tests\.S" name="test_sub \(i=2\)" time="0\.500">\s*<error/);
  assert.match(xml, /<testcase classname="app\.tests\.S" name="tearDownClass" time="0\.000">\s*<error/);
  assert.match(xml, /<system-out>hi\n<\/system-out>/);
});

test("benchmark: the description's four lines, every number from the run", () => {
  const run = fixtureRun();
  const figures = benchmarkFigures(run, null);
  assert.equal(figures.busySeconds, 12);
  assert.equal(figures.utilization, 12 / (2 * 8));
  assert.equal(figures.phases.workerStart, 1);
  assert.equal(figures.phases.tests, 7);
  assert.deepEqual(figures.sequential, {
    seconds: 0.5 + 1 + 12,
    measured: false,
  });
  const lines = benchmarkLines(run, figures);
  assert.deepEqual(lines.slice(0, 4), [
    "[CONCURRENT] Running 5 tests with 2 workers",
    "[CONCURRENT] Tests completed in 11.0s (19% faster than sequential, estimated)",
    "[CONCURRENT] Worker utilization: 75%",
    "[CONCURRENT] Database operations: 2 clones, 0 errors",
  ]);
  assert.equal(
    lines[4],
    "[CONCURRENT] Breakdown: discovery 0.5s, template 1.0s, clones 0.5s, worker start 1.0s, tests 7.0s, teardown 1.0s",
  );
  assert.equal(lines[7], "[CONCURRENT]   6.0s  app.tests.B (2 tests, worker 2)");
});

test("benchmark: SQLite in-memory databases the workers load are counted apart from clones", () => {
  const run = { ...fixtureRun(), clones: { clones: 0, errors: 0, inMemory: 4 } };
  assert.equal(
    benchmarkLines(run, benchmarkFigures(run, null))[3],
    "[CONCURRENT] Database operations: 0 clones, 4 in-memory copies loaded by the workers, 0 errors",
  );
});

test("benchmark: a stored sequential measurement replaces the estimate; slower runs say so", () => {
  const run = fixtureRun();
  const measured = benchmarkLines(run, benchmarkFigures(run, { seconds: 44, tests: 5, measured: "" }));
  assert.equal(measured[1], "[CONCURRENT] Tests completed in 11.0s (75% faster than sequential, measured)");
  const slow = benchmarkLines(run, benchmarkFigures(run, { seconds: 10, tests: 5, measured: "" }));
  assert.equal(slow[1], "[CONCURRENT] Tests completed in 11.0s (10% slower than sequential, measured)");
});

test("HTML: one self-contained file whose data survives </script> in a traceback", () => {
  const run = fixtureRun();
  run.classes[0]!.tests[1]!.outcomes[0]!.traceback =
    "Traceback\nAssertionError: </script><script>alert(1)</script><!--\n";
  const html = renderHtml({ version: 1, generatedAt: "now", runs: [run] });
  assert.ok(!/(src|href)=["']?https?:/i.test(html), "no external resource");
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  assert.equal(html.match(/<\/script>/g)!.length, 2, "only the two script elements close");
  assert.deepEqual(extractReportData(html, "x").runs[0], run);
});

function shardRun(index: number, plan: string, labels: string[]): RunData {
  const run = fixtureRun();
  run.shard = { index, total: 2, plan };
  run.classes = labels.map((l, i) =>
    classData(l, 1, i, i + 1, [
      testData(`${l}.test_a`, i === 0 ? "failure" : "success", {}, { traceback: "T\nAssertionError: x\n" }),
    ]),
  );
  run.testsRun = labels.length;
  return run;
}

test("merge: JUnit files of two shards become one, totals added, overlaps and missing shards reported", () => {
  const one = junitXml(shardRun(1, "p1", ["a.T1", "a.T2"]));
  const two = junitXml(shardRun(2, "p1", ["a.T3"]));
  const problems: string[] = [];
  const merged = mergeJunit(
    [
      { name: "1.xml", text: one },
      { name: "2.xml", text: two },
    ],
    problems,
  );
  assert.deepEqual(problems, []);
  assert.equal(xmllint(merged).status, 0);
  assert.match(merged, /<testsuites name="django-concurrent-test" time="11\.000" tests="3" failures="2" errors="0">/);
  assert.equal(merged.match(/<testsuite /g)!.length, 3);

  const overlap: string[] = [];
  mergeJunit(
    [
      { name: "1.xml", text: one },
      { name: "again.xml", text: junitXml(shardRun(2, "p2", ["a.T2"])) },
    ],
    overlap,
  );
  assert.ok(
    overlap.some((p) => p.includes("a.T2.test_a is in both 1.xml and again.xml")),
    overlap.join("\n"),
  );
  assert.ok(overlap.some((p) => p.includes("planned differently")));

  const missing: string[] = [];
  checkShards(
    [
      { index: 1, total: 3, plan: "p" },
      { index: 3, total: 3, plan: "p" },
    ],
    missing,
  );
  assert.deepEqual(missing, ["shard 2/3 is missing"]);
});

test("merge: HTML data of shards in shard order; timings keep each class's newest measurement", () => {
  const problems: string[] = [];
  const data = mergeReportData(
    [
      { version: 1, generatedAt: "", runs: [shardRun(2, "p", ["a.T3"])] },
      { version: 1, generatedAt: "", runs: [shardRun(1, "p", ["a.T1"])] },
    ],
    problems,
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(
    data.runs.map((r) => r.shard?.index),
    [1, 2],
  );
  const timings = (classes: Record<string, { seconds: number; updated: string }>): string =>
    JSON.stringify({
      version: 1,
      classes: Object.fromEntries(Object.entries(classes).map(([k, v]) => [k, { ...v, tests: 1, runs: 1 }])),
    });
  const merged = JSON.parse(
    mergeTimingsFiles([
      {
        name: "1",
        text: timings({
          A: { seconds: 1, updated: "2026-01-01" },
          B: { seconds: 9, updated: "2026-02-01" },
        }),
      },
      {
        name: "2",
        text: timings({
          A: { seconds: 2, updated: "2026-03-01" },
          B: { seconds: 5, updated: "2026-01-01" },
        }),
      },
    ]),
  ) as { classes: Record<string, { seconds: number }> };
  assert.equal(merged.classes.A!.seconds, 2);
  assert.equal(merged.classes.B!.seconds, 9);
});

test("a class split across workers (or retried) is still one test suite with every test", () => {
  const tests = ["a", "b", "c", "d"].map((n) => ({
    id: `app.tests.S.test_${n}`,
    description: n,
  }));
  const info: TestClassInfo = {
    index: 0,
    label: "app.tests.S",
    kind: "SimpleTestCase",
    file: null,
    line: null,
    databases: [],
    serializedRollback: false,
    tests,
  };
  const results = new RunResults();
  results.classList = [info];
  // The scheduler records each part under an index of its own; workers report the class's.
  const parts = [
    { ...info, index: 7, tests: tests.slice(0, 2) },
    { ...info, index: 8, tests: tests.slice(2) },
  ];
  parts.forEach((part, i) => {
    results.classStarted(part, i + 1);
    for (const t of part.tests) {
      results.testStarted(t.id, 0, i + 1);
      results.outcome(
        {
          type: "outcome",
          classIndex: 0,
          test: t.id,
          description: t.id,
          outcome: "success",
        },
        i + 1,
      );
    }
    results.classFinished(part.index);
  });
  const run = buildRunData(contextFor(results));
  assert.deepEqual(
    run.classes.map((c) => [c.slot, c.tests.map((t) => t.name)]),
    [
      [1, ["test_a", "test_b"]],
      [2, ["test_c", "test_d"]],
    ],
  );
  const xml = junitXml(run);
  assert.equal(xmllint(xml).status, 0);
  assert.equal(xml.match(/<testsuite /g)!.length, 1);
  assert.match(xml, /<testsuite name="app\.tests\.S" tests="4" failures="0" errors="0" skipped="0"/);
  assert.match(xml, /<property name="worker" value="1,2"\/>/);
});

test("a report that cannot be written says so in one line and the run goes on", async () => {
  const results = new RunResults();
  let err = "";
  const ctx = {
    ...contextFor(results),
    stderr: (t: string) => void (err += t),
  };
  const config = {
    junitXml: "/proc/no-such-dir/junit.xml",
    html: null,
    benchmark: false,
  } as RunConfig;
  for (const reporter of reportersFor(config)) await reporter.finish({ ...ctx, config: { ...ctx.config, ...config } });
  assert.match(err, /^django-concurrent-test: could not write the JUnit XML report: ENOENT[^\n]*\n$/);
});

// The progress line: a live line on a terminal, plain lines elsewhere, and a remaining-time
// estimate only once there is one.
import assert from "node:assert/strict";
import { mock, test } from "node:test";
import { chooseMode, clock, ProgressReporter, type ProgressSource } from "../src/reporters/progress.ts";
import { RunResults } from "../src/results/run-results.ts";

const CLEAR = "\r\x1b[2K";

function outcome(results: RunResults, test: string, kind: "success" | "failure" = "success"): void {
  results.outcome({ type: "outcome", classIndex: 0, test, description: test, outcome: kind }, 1);
}

/** `timed`: stored timings cover the run (the default when an estimate is given). */
function source(total: number, remaining?: number, timed = remaining !== undefined): ProgressSource {
  return {
    total,
    timed,
    current: () => [
      { slot: 1, label: "app.tests.Busy" },
      { slot: 2, label: null },
    ],
    estimateRemaining: () => remaining,
  };
}

test("live on a terminal, plain lines elsewhere, nothing at -v 0 or when turned off", () => {
  const tty = { isTTY: true, columns: () => 100 };
  assert.equal(chooseMode(1, "auto", tty), "live");
  assert.equal(chooseMode(1, "auto", { isTTY: false, columns: () => 80 }), "plain");
  assert.equal(chooseMode(1, "auto", undefined), "plain");
  assert.equal(chooseMode(0, "auto", tty), "off");
  assert.equal(chooseMode(2, "off", tty), "off");
  assert.equal(chooseMode(1, "plain", tty), "plain");
});

test("clock", () => {
  assert.equal(clock(0), "0:00");
  assert.equal(clock(75.4), "1:15");
  assert.equal(clock(3725), "1:02:05");
});

test("the live line: done/total, failures, elapsed, ETA; per-worker classes at -v 2", () => {
  let now = 0;
  const results = new RunResults();
  const written: string[] = [];
  const v2 = new ProgressReporter({
    results,
    verbosity: 2,
    write: () => undefined,
    terminal: { isTTY: true, columns: () => 200 },
    now: () => now,
  });
  const v1 = new ProgressReporter({
    results,
    verbosity: 1,
    write: (t) => written.push(t),
    terminal: { isTTY: true, columns: () => 200 },
    now: () => now,
  });
  v1.start(source(10, 42));
  outcome(results, "t1");
  outcome(results, "t2", "failure");
  now = 65_000;
  assert.equal(v1.liveLine(200), "[ 2/10] · 1 failed · 1:05 · ETA ~0:42");
  v1.stop();

  v2.start(source(10));
  assert.match(v2.liveLine(200), /^\[ 2\/10\] · 1 failed · 0:00 · 1: app\.tests\.Busy$/);
  assert.equal(v2.liveLine(12).length, 12);
  v2.stop();
});

test("live: the console's dots are held in the line and written out whole at the end", () => {
  const results = new RunResults();
  const written: string[] = [];
  const progress = new ProgressReporter({
    results,
    verbosity: 1,
    write: (t) => written.push(t),
    terminal: { isTTY: true, columns: () => 80 },
  });
  progress.write("Cloning test database...\n");
  assert.deepEqual(written, ["Cloning test database...\n"], "before the tests: passed through");
  progress.start(source(3));
  written.length = 0;
  progress.write(".");
  progress.write("F");
  progress.write("\nA whole line\n");
  progress.write(".");
  progress.stop();
  const out = written.join("");
  assert.ok(out.includes(`${CLEAR}.F\nA whole line\n`), JSON.stringify(out));
  assert.ok(out.endsWith(`${CLEAR}.`), JSON.stringify(out));
  written.length = 0;
  progress.write("\n----\n");
  assert.deepEqual(written, ["\n----\n"], "after stop: passed through");
});

test("plain: a line every interval, starting on a fresh line after dots", () => {
  mock.timers.enable({ apis: ["setInterval"] });
  try {
    let now = 0;
    const results = new RunResults();
    const written: string[] = [];
    const progress = new ProgressReporter({
      results,
      verbosity: 1,
      write: (t) => written.push(t),
      intervalSeconds: 30,
      now: () => now,
    });
    assert.equal(progress.mode, "plain");
    progress.start(source(4, 90));
    progress.write(".");
    outcome(results, "t1");
    now = 30_000;
    mock.timers.tick(30_000);
    progress.write(".");
    outcome(results, "t2");
    now = 60_000;
    mock.timers.tick(30_000);
    progress.stop();
    mock.timers.tick(30_000);
    assert.deepEqual(written, [
      ".",
      "\nProgress: 1/4 tests (25%), 0 failed, 0:30 elapsed, about 1:30 left\n",
      ".",
      "\nProgress: 2/4 tests (50%), 0 failed, 1:00 elapsed, about 1:30 left\n",
    ]);
    assert.ok(!written.join("").includes("\x1b"));
  } finally {
    mock.timers.reset();
  }
});

test("off: the console's text passes through untouched", () => {
  const results = new RunResults();
  const written: string[] = [];
  const progress = new ProgressReporter({
    results,
    verbosity: 0,
    write: (t) => written.push(t),
    terminal: { isTTY: true, columns: () => 80 },
  });
  progress.start(source(1));
  progress.write(".");
  progress.stop();
  assert.deepEqual(written, ["."]);
});

function plainReporter(results: RunResults, clock: { now: number }): ProgressReporter {
  return new ProgressReporter({ results, verbosity: 1, write: () => undefined, mode: "plain", now: () => clock.now });
}

test("a first run (no stored timings): no time left until a tenth of the tests finished, then their pace", () => {
  const results = new RunResults();
  const time = { now: 0 };
  const progress = plainReporter(results, time);
  // The pool's guess without stored timings is about nothing.
  progress.start(source(9, 0, false));
  time.now = 20_000;
  assert.equal(progress.plainText(), "Progress: 0/9 tests (0%), 0 failed, 0:20 elapsed\n");
  for (const t of ["t1", "t2", "t3", "t4"]) outcome(results, t);
  time.now = 40_000;
  // 4 of 9 in 40 s: 5 more take about 50 s.
  assert.equal(progress.plainText(), "Progress: 4/9 tests (44%), 0 failed, 0:40 elapsed, about 0:50 left\n");
  assert.match(progress.liveLine(200), / · ETA ~0:50$/);
  progress.stop();
});

test("the pace counts only tests finished since the start, and the source's longer estimate wins", () => {
  const results = new RunResults();
  const time = { now: 0 };
  const progress = plainReporter(results, time);
  // Database-free classes ran while the databases were made: 50 done before the line starts.
  for (let i = 0; i < 50; i++) outcome(results, `early${i}`);
  let guess = 0;
  progress.start({ ...source(150, 0, false), estimateRemaining: () => guess });
  for (let i = 0; i < 9; i++) outcome(results, `t${i}`);
  time.now = 9_000;
  assert.doesNotMatch(progress.plainText(), /left/, "9 of the 100 left: not yet a tenth");
  outcome(results, "t9");
  time.now = 10_000;
  assert.match(progress.plainText(), /, about 1:30 left\n$/, "10 in 10 s, 90 to go");
  guess = 300;
  assert.match(progress.plainText(), /, about 5:00 left\n$/);
  progress.stop();
});

test("never 0:00 left while tests remain, and nothing about time left once all are done", () => {
  const results = new RunResults();
  const time = { now: 0 };
  const progress = plainReporter(results, time);
  progress.start(source(2, 0));
  outcome(results, "t1");
  assert.match(progress.plainText(), /, about 0:01 left\n$/);
  outcome(results, "t2");
  assert.equal(progress.plainText(), "Progress: 2/2 tests (100%), 0 failed, 0:00 elapsed\n");
  progress.stop();
});

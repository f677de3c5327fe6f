// The console reporter prints what Django's text runner prints for the same outcomes.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { OutcomeEvent } from "../src/protocol/messages.ts";
import { ConsoleReporter, pyRepr } from "../src/reporters/console.ts";
import { RunResults } from "../src/results/run-results.ts";

function outcome(test: string, kind: OutcomeEvent["outcome"], extra: Partial<OutcomeEvent> = {}): OutcomeEvent {
  const method = test.split(".").pop();
  return {
    type: "outcome",
    classIndex: 0,
    test,
    description: `${method} (${test})`,
    outcome: kind,
    ...extra,
  };
}

function runWith(verbosity: number, events: OutcomeEvent[]): string {
  const results = new RunResults();
  let out = "";
  const reporter = new ConsoleReporter(results, {
    verbosity,
    durations: null,
    write: (t) => (out += t),
    pythonVersion: [3, 11],
  });
  for (const e of events) {
    results.testStarted(e.test, 0, 1);
    results.outcome(e, 1);
  }
  reporter.finish(1.5);
  return out;
}

test("verbosity 1: dots, then errors before failures, then the summary", () => {
  const out = runWith(1, [
    outcome("a.T.test_ok", "success"),
    outcome("a.T.test_f", "failure", {
      traceback: "Traceback\nAssertionError\n",
    }),
    outcome("a.T.test_e", "error", { traceback: "Traceback\nValueError\n" }),
    outcome("a.T.test_s", "skip", { reason: "no" }),
  ]);
  assert.ok(out.startsWith(".FEs\n"));
  assert.ok(out.indexOf("ERROR: test_e (a.T.test_e)") < out.indexOf("FAIL: test_f (a.T.test_f)"));
  assert.match(out, /-{70}\nRan 4 tests in 1\.500s\n\nFAILED \(failures=1, errors=1, skipped=1\)\n$/);
});

test("verbosity 2: one line per outcome in unittest's words", () => {
  const out = runWith(2, [
    outcome("a.T.test_ok", "success"),
    outcome("a.T.test_s", "skip", { reason: "it's off" }),
    outcome("a.T.test_x", "expectedFailure"),
  ]);
  assert.ok(out.includes("test_ok (a.T.test_ok) ... ok\n"));
  assert.ok(out.includes(`test_s (a.T.test_s) ... skipped "it's off"\n`));
  assert.ok(out.includes("test_x (a.T.test_x) ... expected failure\n"));
  assert.ok(out.endsWith("OK (skipped=1, expected failures=1)\n"));
});

test("an unexpected success fails the run, as in unittest", () => {
  const out = runWith(0, [outcome("a.T.test_u", "unexpectedSuccess")]);
  assert.ok(out.includes("UNEXPECTED SUCCESS: test_u (a.T.test_u)"));
  assert.ok(out.endsWith("FAILED (unexpected successes=1)\n"));
  assert.ok(!out.startsWith("\n"), "verbosity 0 prints no dots line");
});

test("skip reasons are shown as Python's repr()", () => {
  assert.equal(pyRepr("plain"), "'plain'");
  assert.equal(pyRepr("it's"), `"it's"`);
  assert.equal(pyRepr(`both ' and "`), `'both \\' and "'`);
});

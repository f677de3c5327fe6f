// Supervision's pieces: when a silent worker counts as hung, the stacks kept for a report, and
// how lost workers are described.
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatIncidents, type Incident } from "../src/workers/incidents.ts";
import { hungAfter } from "../src/workers/supervision.ts";
import { cleanStacks } from "../src/workers/stacks.ts";

const DUMP = `Thread 0x00007f0b8c5ff6c0 (most recent call first):
  File "/usr/lib/python3.11/threading.py", line 331 in wait
  File "/usr/lib/python3.11/threading.py", line 629 in wait
  File "/site/django_concurrent_test/worker.py", line 120 in _heartbeat_loop
  File "/usr/lib/python3.11/threading.py", line 982 in run

Current thread 0x00007f0b8d9d2740 (most recent call first):
  File "/app/tests.py", line 18 in test_hangs
  File "/usr/lib/python3.11/unittest/case.py", line 579 in _callTestMethod
  File "/site/django_concurrent_test/worker.py", line 155 in run_class
  File "/site/django_concurrent_test/worker.py", line 68 in serve
  File "/site/django_concurrent_test/bridge.py", line 341 in _fork_workers
`;

test("stacks: without the heartbeat thread and below the worker's run_class", () => {
  assert.equal(
    cleanStacks(DUMP),
    `Current thread 0x00007f0b8d9d2740 (most recent call first):
  File "/app/tests.py", line 18 in test_hangs
  File "/usr/lib/python3.11/unittest/case.py", line 579 in _callTestMethod`,
  );
  assert.equal(cleanStacks(""), "");
});

test("a frozen worker is one silent for half the timeout, between 5 s and a minute", () => {
  assert.equal(hungAfter(300), 60);
  assert.equal(hungAfter(12), 6);
  assert.equal(hungAfter(2), 5);
});

test("the console's section lists each incident and what its retry did", () => {
  const base: Incident = {
    kind: "crash",
    slot: 2,
    pid: 4242,
    message: "the worker process exited with status 1 while running a.T.test_x",
    label: "a.T",
    test: "a.T.test_x",
    elapsed: 0.4,
    stacks: null,
    retry: "passed",
  };
  assert.equal(formatIncidents([]), "");
  assert.equal(
    formatIncidents([
      base,
      {
        ...base,
        kind: "timeout",
        slot: 1,
        pid: null,
        message: "a.U ran for 3.0s",
        retry: null,
      },
    ]),
    "Worker problems (2):\n" +
      "  worker 2 (pid 4242) crashed: the worker process exited with status 1 while running a.T.test_x; retried on a fresh worker: passed\n" +
      "  worker 1 timed out: a.U ran for 3.0s\n",
  );
});

// The pool losing workers, on scripted fake workers (helpers/fake-worker.ts): a class past its
// timeout, a frozen worker, a crash and its retry on a fresh worker, an interrupt. What is
// asserted is what a user sees: each test's outcome, which worker ran what, the incidents.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { formatIncidents } from "../src/workers/incidents.ts";
import { fakeClass, type Step } from "./helpers/fake-worker.ts";
import { fakePool, runToEnd, seen, stopLeftovers, until } from "./helpers/fake-worker-pool.ts";

/** A pool that never finishes fails its test rather than hanging the file. */
const LIMIT = { timeout: 5000 };
after(stopLeftovers);

const CART = fakeClass(0, "shop.tests.Cart", ["test_add", "test_pay", "test_ship"]);
const LATER = fakeClass(1, "shop.tests.Later", ["test_1"]);

/** test_pay does `step` on a slot's first worker; everything else passes. */
const payDoes =
  (step: Step, onRetryToo = false) =>
  (test: string, worker: { generation: number }): Step =>
    test === "shop.tests.Cart.test_pay" && (worker.generation === 1 || onRetryToo) ? step : { outcome: "success" };

test(
  "a class past its timeout: its test errors with where it was, the rest are not run, a fresh worker goes on",
  LIMIT,
  async () => {
    const run = fakePool([CART, LATER], { test: payDoes({ hang: true }) }, { timeout: 0.3 });
    await runToEnd(run);

    assert.equal(seen(run.results, "shop.tests.Cart.test_add"), "success");
    assert.match(
      seen(run.results, "shop.tests.Cart.test_pay"),
      /^error: WorkerTimeout: shop\.tests\.Cart ran for 0\.3s, past the 0\.3s timeout; shop\.tests\.Cart\.test_pay had been running for 0\.\ds; the worker was still responding/,
    );
    const traceback = run.results.tests.get("shop.tests.Cart.test_pay")!.outcomes[0]!.traceback!;
    assert.match(
      traceback,
      /Where the worker was \(most recent call first\):\n {2}Current thread .*\n {4}File "\/app\/tests\.py", line 18 in test_pay/,
    );
    assert.equal(
      seen(run.results, "shop.tests.Cart.test_ship"),
      "error: NotRun: the class ran out of time before this test started (timed out after 0.3s)",
    );
    const [first, second] = run.launcher.slot(1);
    assert.deepEqual(first!.signals, ["SIGUSR1", "SIGKILL"], "asked for its stacks, then killed");
    assert.deepEqual(second!.runs, [{ label: "shop.tests.Later", tests: null }], "a timeout is not retried");
    assert.equal(seen(run.results, "shop.tests.Later.test_1"), "success");
    const [incident] = run.pool.incidents;
    assert.equal(run.pool.incidents.length, 1);
    assert.equal(incident!.kind, "timeout");
    assert.equal(incident!.test, "shop.tests.Cart.test_pay");
    assert.equal(incident!.retry, null);
    assert.equal(run.results.classes.get(0)?.interrupted, "timed out after 0.3s");
  },
);

test("a frozen worker (no heartbeat) is told from a slow one and killed", LIMIT, async () => {
  const run = fakePool([CART], { test: payDoes({ freeze: true }) }, { hungAfterSeconds: 0.15 });
  await runToEnd(run);
  assert.match(
    seen(run.results, "shop.tests.Cart.test_pay"),
    /^error: WorkerTimeout: no heartbeat for 0\.\ds while running shop\.tests\.Cart\.test_pay: the process is frozen/,
  );
  assert.equal(
    seen(run.results, "shop.tests.Cart.test_ship"),
    "error: NotRun: the worker stopped responding before this test started (the worker stopped responding)",
  );
  assert.deepEqual(
    run.pool.incidents.map((i) => [i.kind, i.stacks]),
    [["hung", null]],
    "a frozen process writes no stacks",
  );
});

test("a crash: the unfinished tests run again on a fresh worker in the same slot, and pass", LIMIT, async () => {
  const crash = { crash: { code: null, signal: "SIGSEGV" }, stacks: true } as const;
  const run = fakePool([CART, LATER], { test: payDoes(crash) });
  await runToEnd(run);

  for (const t of CART.tests) assert.equal(seen(run.results, t.id), "success", t.id);
  assert.equal(run.results.testsRun, 4, "a retried test is counted once");
  assert.ok(run.results.wasSuccessful);
  const [first, second] = run.launcher.slot(1);
  assert.deepEqual(first!.runs, [{ label: "shop.tests.Cart", tests: null }]);
  assert.deepEqual(
    second!.runs,
    [
      { label: "shop.tests.Cart", tests: ["shop.tests.Cart.test_pay", "shop.tests.Cart.test_ship"] },
      { label: "shop.tests.Later", tests: null },
    ],
    "the retry comes first and runs only what had no result",
  );
  const [incident] = run.pool.incidents;
  assert.equal(run.pool.incidents.length, 1);
  assert.equal(incident!.kind, "crash");
  assert.equal(
    incident!.message,
    "the worker process was killed by signal SIGSEGV while running shop.tests.Cart.test_pay",
  );
  assert.match(incident!.stacks ?? "", /line 18 in test_pay/, "faulthandler's stacks from the fatal signal");
  assert.equal(incident!.retry, "passed");
  assert.equal(
    formatIncidents(run.pool.incidents),
    `Worker problems (1):\n  worker 1 (pid ${first!.pid}) crashed: the worker process was killed by signal SIGSEGV while running shop.tests.Cart.test_pay; retried on a fresh worker: passed\n`,
  );
  assert.deepEqual(
    run.events.map((e) => e.type),
    ["workerLost", "retryDone"],
  );
});

test("a retry that crashes again: one incident, its running test errors, the rest are not run", LIMIT, async () => {
  const run = fakePool([CART], { test: payDoes({ crash: { code: 1, signal: null } }, true) });
  await runToEnd(run);
  assert.equal(seen(run.results, "shop.tests.Cart.test_add"), "success");
  assert.equal(
    seen(run.results, "shop.tests.Cart.test_pay"),
    "error: WorkerCrash: the worker process exited with status 1 while running shop.tests.Cart.test_pay (on the retry after an earlier crash)",
  );
  assert.equal(
    seen(run.results, "shop.tests.Cart.test_ship"),
    "error: NotRun: the worker crashed before this test started (the worker process exited with status 1 while running shop.tests.Cart.test_pay)",
  );
  assert.deepEqual(
    run.pool.incidents.map((i) => [i.kind, i.retry]),
    [["crash", "crashed again"]],
  );
  assert.equal(run.launcher.workers.length, 2, "no third worker: no work was left");
});

test("with crash retries off, a crash's running test errors at once", LIMIT, async () => {
  const run = fakePool([CART], { test: payDoes({ crash: { code: 1, signal: null } }) }, { crashRetries: 0 });
  await runToEnd(run);
  assert.equal(
    seen(run.results, "shop.tests.Cart.test_pay"),
    "error: WorkerCrash: the worker process exited with status 1 while running shop.tests.Cart.test_pay",
  );
  assert.match(seen(run.results, "shop.tests.Cart.test_ship"), /^error: NotRun: the worker crashed/);
  assert.equal(run.pool.incidents[0]!.retry, null);
  assert.equal(run.launcher.workers.length, 1);
});

test("a crash outside a transaction gets the slot fresh clones before its next worker starts", LIMIT, async () => {
  const flushes = fakeClass(0, "shop.tests.Flushes", ["test_a", "test_b"], { kind: "TransactionTestCase" });
  const order: string[] = [];
  const run = fakePool(
    [flushes],
    {
      test: (t, w) =>
        t.endsWith("test_a") && w.generation === 1 ? { crash: { code: 1, signal: null } } : { outcome: "success" },
    },
    {
      refreshSlot: async (slot) => {
        order.push(`refresh ${slot} (workers so far: ${run.launcher.workers.length})`);
      },
    },
  );
  await runToEnd(run);
  assert.deepEqual(order, ["refresh 1 (workers so far: 1)"]);
  assert.equal(run.launcher.workers.length, 2);
  assert.equal(seen(run.results, "shop.tests.Flushes.test_a"), "success");
});

test("an interrupt kills every worker; running classes are cut short, queued ones not started", LIMIT, async () => {
  const classes = [0, 1, 2, 3].map((i) => fakeClass(i, `shop.tests.C${i}`, ["test_1"]));
  const run = fakePool(classes, { test: () => ({ hang: true }) }, { slots: [1, 2] });
  const running = runToEnd(run, [1, 2]);
  const busy = (): boolean => run.launcher.workers.filter((w) => w.runs.length === 1).length === 2;
  await until(busy, "both workers busy");
  run.pool.interrupt();
  await running;
  assert.deepEqual(run.pool.cutShort, { running: 2, notStarted: 2 });
  assert.ok(run.launcher.workers.every((w) => w.signals.includes("SIGKILL")));
  assert.equal(run.launcher.workers.length, 2, "nothing is restarted");
  assert.deepEqual(run.pool.incidents, [], "an interrupt is not a worker problem");
});

test("a test raising KeyboardInterrupt ends the run as Ctrl-C would, never a crash to retry", LIMIT, async () => {
  const told: string[] = [];
  const run = fakePool([CART, LATER], { test: payDoes({ keyboardInterrupt: true }) });
  await runToEnd(run);
  assert.deepEqual(run.pool.cutShort, { running: 1, notStarted: 1 });
  assert.deepEqual(run.events, [{ type: "keyboardInterrupt", test: "shop.tests.Cart.test_pay", slot: 1 }]);
  assert.deepEqual(run.pool.incidents, []);

  const asked = fakePool(
    [CART],
    { test: payDoes({ keyboardInterrupt: true }) },
    {
      onKeyboardInterrupt: (t) => {
        told.push(t);
        asked.pool.interrupt();
      },
    },
  );
  await runToEnd(asked);
  assert.deepEqual(told, ["shop.tests.Cart.test_pay"], "the run's handler decides");
});

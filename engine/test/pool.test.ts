// The worker pool's state machine on scripted fake workers (helpers/fake-worker.ts) that speak
// the real protocol over the pool's socket: the handshake, dispatch, early start before the
// clones exist and attach, stopping, and workers that cannot start.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, test } from "node:test";
import type { TestClassInfo } from "../src/protocol/messages.ts";
import { WorkerStartError } from "../src/workers/pool.ts";
import { fakeClass } from "./helpers/fake-worker.ts";
import { clonesFor, fakePool, runToEnd, seen, stopLeftovers, until } from "./helpers/fake-worker-pool.ts";

/** A pool that never finishes fails its test rather than hanging the file. */
const LIMIT = { timeout: 5000 };
after(stopLeftovers);

const FREE: Partial<TestClassInfo> = { kind: "SimpleTestCase", databases: [], beforeDatabases: true };

test("each worker is configured for its slot, and every class runs once across the slots", LIMIT, async () => {
  const classes = [
    fakeClass(0, "shop.tests.A", ["test_1", "test_2"]),
    fakeClass(1, "shop.tests.B", ["test_1"]),
    fakeClass(2, "shop.tests.C", ["test_1"], { kind: "TransactionTestCase" }),
    fakeClass(3, "shop.tests.D", ["test_1", "test_2", "test_3"]),
  ];
  const run = fakePool(classes, {}, { slots: [1, 2] });
  const ready: number[] = [];
  run.results.on("workerReady", (slot) => ready.push(slot));
  await runToEnd(run, [1, 2]);

  assert.deepEqual(run.launcher.protocolErrors, []);
  assert.deepEqual(ready.sort(), [1, 2]);
  const [one, two] = [run.launcher.slot(1)[0]!, run.launcher.slot(2)[0]!];
  assert.equal(run.launcher.workers.length, 2, "no worker was replaced");
  assert.equal(one.configure?.supervision?.heartbeatSeconds, 0.02);
  assert.notEqual(one.configure?.supervision?.stackFile, two.configure?.supervision?.stackFile);
  const ran = [...one.runs, ...two.runs].map((r) => r.label).sort();
  assert.deepEqual(ran, classes.map((c) => c.label).sort(), "each class handed out exactly once, whole");
  for (const c of classes) for (const t of c.tests) assert.equal(seen(run.results, t.id), "success", t.id);
  assert.equal(run.results.testsRun, 7);
  assert.deepEqual(run.pool.incidents, []);
  assert.ok(one.stoppedAsked && two.stoppedAsked, "stop() asks every worker to exit");
  assert.equal(existsSync(run.pool.socketPath), false, "the socket is removed");
});

test(
  "before the clones exist workers run only database-free classes; attach lets them take the rest",
  LIMIT,
  async () => {
    const classes = [
      fakeClass(0, "shop.tests.Orders", ["test_total"]),
      fakeClass(1, "shop.tests.Pure", ["test_slug", "test_price"], FREE),
      fakeClass(2, "shop.tests.Unguarded", ["test_x"], { kind: "SimpleTestCase", databases: [] }),
    ];
    const run = fakePool(classes, {}, { slots: [1, 2] });
    await run.pool.start();
    const doneTests = (): number => run.results.counts.success;
    await until(() => doneTests() === 2, "the database-free class");
    await new Promise((r) => setTimeout(r, 50)); // time enough to hand out more, if it would

    const workers = run.launcher.workers;
    assert.equal(workers.length, 2);
    assert.ok(
      workers.every((w) => w.configure && Object.keys(w.configure.clones).length === 0),
      "configured without clones",
    );
    assert.deepEqual(
      workers.flatMap((w) => w.runs.map((r) => r.label)),
      ["shop.tests.Pure"],
      "only the guarded SimpleTestCase ran early (a plain one might query)",
    );
    assert.equal(seen(run.results, "shop.tests.Orders.test_total"), "no result");

    run.pool.attachDatabases(clonesFor([1, 2]), { default: "[]" });
    await run.pool.run();
    await run.pool.stop(500);
    for (const w of workers) {
      assert.equal(w.attaches.length, 1, `worker ${w.slot} told its clones once`);
      assert.deepEqual(w.attaches[0]!.clones, { default: { name: `test_shop_${w.slot}` } });
      assert.deepEqual(w.attaches[0]!.serializedContents, { default: "[]" });
    }
    assert.equal(seen(run.results, "shop.tests.Orders.test_total"), "success");
    assert.equal(seen(run.results, "shop.tests.Unguarded.test_x"), "success");
    assert.deepEqual(run.launcher.protocolErrors, []);
  },
);

test(
  "when the databases' setup changed the process workers fork from, the early workers finish their class and fresh ones take the rest",
  LIMIT,
  async () => {
    const classes = [
      fakeClass(0, "shop.tests.Pure", ["test_slug"], FREE),
      fakeClass(1, "shop.tests.Slow", ["test_a", "test_b"], FREE),
      fakeClass(2, "shop.tests.Orders", ["test_total", "test_tax"]),
      fakeClass(3, "shop.tests.Refunds", ["test_refund"]),
    ];
    // The early class on one worker is still running when the clones exist.
    const run = fakePool(
      classes,
      { test: (id) => ({ outcome: "success", ms: id.endsWith("test_b") ? 150 : 1 }) },
      { slots: [1, 2] },
    );
    await run.pool.start();
    await until(() => run.results.counts.success >= 2, "the early classes to be under way");
    run.pool.attachDatabases(clonesFor([1, 2]), {}, { freshWorkers: true });
    await run.pool.run();
    await run.pool.stop(500);

    for (const slot of [1, 2]) {
      const [early, fresh, ...more] = run.launcher.slot(slot);
      assert.equal(more.length, 0, `slot ${slot}: at most one fresh worker`);
      assert.ok(early!.stoppedAsked, `slot ${slot}: the early worker was asked to exit`);
      assert.equal(early!.attaches.length, 0, `slot ${slot}: the early worker never got the clones`);
      assert.ok(
        early!.runs.every((r) => r.label.endsWith("Pure") || r.label.endsWith("Slow")),
        "early workers ran only database-free classes",
      );
      if (fresh) assert.deepEqual(fresh.configure?.clones, { default: { name: `test_shop_${slot}` } });
    }
    const fresh = run.launcher.workers.filter((w) => w.generation > 1);
    assert.ok(fresh.length >= 1, "a fresh worker took the database classes");
    assert.deepEqual(
      fresh.flatMap((w) => w.runs.map((r) => r.label)).sort(),
      ["shop.tests.Orders", "shop.tests.Refunds"],
      "the database classes ran on fresh workers only",
    );
    const ran = run.launcher.workers.flatMap((w) => w.runs.map((r) => r.label)).sort();
    assert.deepEqual(ran, classes.map((c) => c.label).sort(), "each class ran once");
    for (const c of classes) for (const t of c.tests) assert.equal(seen(run.results, t.id), "success", t.id);
    assert.deepEqual(run.pool.incidents, [], "a retired worker is no lost worker");
    assert.deepEqual(run.launcher.protocolErrors, []);
  },
);

test("a worker that says hello after the clones exist is configured with them and never attached", LIMIT, async () => {
  const run = fakePool([fakeClass(0, "shop.tests.Orders", ["test_total"])]);
  await run.pool.start();
  run.pool.attachDatabases(clonesFor([1])); // before the fake's hello arrives
  await run.pool.run();
  await run.pool.stop(500);
  const worker = run.launcher.workers[0]!;
  assert.deepEqual(worker.configure?.clones, { default: { name: "test_shop_1" } });
  assert.equal(worker.attaches.length, 0);
  assert.equal(seen(run.results, "shop.tests.Orders.test_total"), "success");
});

test("a worker that exits before it is ready fails the run at once, with its exit status", LIMIT, async () => {
  const run = fakePool([fakeClass(0, "shop.tests.Orders", ["test_total"])], {
    start: () => ({ code: 3, signal: null }),
  });
  await assert.rejects(
    runToEnd(run),
    (error: Error) =>
      error instanceof WorkerStartError &&
      error.message === "worker 1 could not start: its process exited with status 3; its error is printed above",
  );
  assert.equal(run.launcher.workers.length, 1, "a worker that cannot start is not started again");
  assert.deepEqual(
    run.pool.incidents.map((i) => [i.kind, i.slot]),
    [["startFailure", 1]],
  );
});

test("a worker that never gets ready is killed after the timeout and fails the run", LIMIT, async () => {
  const run = fakePool(
    [fakeClass(0, "shop.tests.Orders", ["test_total"])],
    { start: () => "silent" },
    { timeout: 0.2 },
  );
  await assert.rejects(
    runToEnd(run),
    /worker 1 could not start: it was not ready after 0\.2s \(the timeout is 0\.2s\)/,
  );
  assert.deepEqual(run.launcher.workers[0]!.signals, ["SIGKILL"], "no stacks asked of a worker still starting");
});

test("when one slot cannot start but another runs, the run goes on without it", LIMIT, async () => {
  const classes = [fakeClass(0, "shop.tests.A", ["test_1"]), fakeClass(1, "shop.tests.B", ["test_1"])];
  const run = fakePool(
    classes,
    // Slot 2 dies only once slot 1 is ready: it is not the first worker, so the run goes on.
    {
      start: async (w) => {
        if (w.slot !== 2) return "ready";
        await until(() => run.results.workerReadyAt.has(1), "slot 1 ready");
        return { code: 1, signal: null };
      },
    },
    { slots: [1, 2] },
  );
  await runToEnd(run, [1, 2]);
  assert.equal(seen(run.results, "shop.tests.A.test_1"), "success");
  assert.equal(seen(run.results, "shop.tests.B.test_1"), "success");
  assert.deepEqual(
    run.pool.incidents.map((i) => `${i.kind} ${i.slot}: ${i.message}`),
    ["startFailure 2: its process exited with status 1"],
  );
});

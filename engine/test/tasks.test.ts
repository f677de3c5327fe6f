// The task runner a run is made of: setups in order, the teardowns of what started in reverse,
// whatever a setup or a teardown throws, and when the run is interrupted.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runTasks, type Task } from "../src/commands/tasks.ts";

/** Tasks that log "setup x" / "teardown x"; `throwing` names the steps that throw. */
function tasks(titles: string[], log: string[], throwing: string[] = []): Task[] {
  const step = (what: string) => (): void => {
    log.push(what);
    if (throwing.includes(what)) throw new Error(what);
  };
  return titles.map((title) => ({ title, setup: step(`setup ${title}`), teardown: step(`teardown ${title}`) }));
}

test("setups run in order, then every teardown in reverse", async () => {
  const log: string[] = [];
  const outcome = await runTasks(tasks(["a", "b", "c"], log), { onTeardown: () => log.push("-") });
  assert.deepEqual(log, ["setup a", "setup b", "setup c", "-", "teardown c", "teardown b", "teardown a"]);
  assert.deepEqual(outcome, { status: "passed" });
});

test("a throwing setup stops the setups; what started is torn down, itself included", async () => {
  const log: string[] = [];
  const reported: string[] = [];
  const outcome = await runTasks(tasks(["a", "b", "c"], log, ["setup b"]), {
    onError: (error, task) => reported.push(`${task.title}: ${(error as Error).message}`),
  });
  assert.deepEqual(log, ["setup a", "setup b", "teardown b", "teardown a"]);
  assert.equal(outcome.status, "failed");
  assert.equal((outcome.error as Error).message, "setup b");
  assert.deepEqual(reported, ["b: setup b"]);
});

test("a throwing teardown does not stop the others, and the first error is the outcome's", async () => {
  const log: string[] = [];
  const reported: string[] = [];
  const outcome = await runTasks(tasks(["a", "b", "c"], log, ["teardown c", "teardown b"]), {
    onError: (error) => reported.push((error as Error).message),
  });
  assert.deepEqual(log, ["setup a", "setup b", "setup c", "teardown c", "teardown b", "teardown a"]);
  assert.equal(outcome.status, "failed");
  assert.equal((outcome.error as Error).message, "teardown c");
  assert.deepEqual(reported, ["teardown c", "teardown b"]);
});

test("a setup's error comes before a teardown's", async () => {
  const log: string[] = [];
  const outcome = await runTasks(tasks(["a", "b"], log, ["setup b", "teardown a"]));
  assert.equal((outcome.error as Error).message, "setup b");
  assert.deepEqual(log, ["setup a", "setup b", "teardown b", "teardown a"]);
});

test("an interrupt lets the running setup finish, starts no other, and tears down what started", async () => {
  const log: string[] = [];
  const controller = new AbortController();
  const list = tasks(["a", "b", "c"], log);
  list[1]!.setup = async () => {
    controller.abort();
    await new Promise((resolve) => setTimeout(resolve, 5));
    log.push("setup b");
  };
  const outcome = await runTasks(list, { signal: controller.signal });
  assert.deepEqual(log, ["setup a", "setup b", "teardown b", "teardown a"]);
  assert.deepEqual(outcome, { status: "interrupted" });
});

test("tasks without a setup or a teardown take part in the order", async () => {
  const log: string[] = [];
  const outcome = await runTasks([
    { title: "only teardown", teardown: () => void log.push("teardown 1") },
    { title: "only setup", setup: () => void log.push("setup 2") },
  ]);
  assert.deepEqual(log, ["setup 2", "teardown 1"]);
  assert.equal(outcome.status, "passed");
});

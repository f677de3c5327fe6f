// pytest --concurrent: every outcome the run records (a worker's, or one the engine made for a
// lost test) reaches the main pytest process untouched, and its stopWork stops the queue.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, connect, type Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { Channel } from "../src/protocol/channel.ts";
import type { BridgeHello, FromBridge, OutcomeEvent, ToBridge } from "../src/protocol/messages.ts";
import { isPytestRun, relayToPytest } from "../src/reporters/pytest-relay.ts";
import { RunResults } from "../src/results/run-results.ts";

async function socketPair(): Promise<[Socket, Socket]> {
  const file = path.join(os.tmpdir(), `dct-relay-${process.pid}.sock`);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(file, resolve));
  const accepted = once(server, "connection");
  const client = connect(file);
  const [serverSide] = (await accepted) as [Socket];
  server.close();
  return [client, serverSide];
}

test("outcomes go to the bridge as they are recorded; stopWork stops the queue", async () => {
  const [engineEnd, pytestEnd] = await socketPair();
  const channel = new Channel<FromBridge, ToBridge>(engineEnd);
  const pytest = new Channel<ToBridge, FromBridge>(pytestEnd);
  const results = new RunResults();
  let stopped = 0;
  const end = relayToPytest({ channel }, results, {
    stop: () => stopped++,
  });
  const received: ToBridge[] = [];
  const two = new Promise<void>((resolve) =>
    pytest.on("message", (message: ToBridge) => {
      received.push(message);
      if (received.length === 2) resolve();
    }),
  );
  const withReports: OutcomeEvent = {
    type: "outcome",
    classIndex: 0,
    test: "app/test_a.py::test_one",
    description: "app/test_a.py::test_one",
    outcome: "failure",
    traceback: "assert 1 == 2",
    pytest: {
      location: ["app/test_a.py", 3, "test_one"],
      reports: [{ when: "call", outcome: "failed" }],
      warnings: [],
    },
  };
  const lost: OutcomeEvent = {
    type: "outcome",
    classIndex: 0,
    test: "app/test_a.py::test_two",
    description: "app/test_a.py::test_two",
    outcome: "error",
    traceback: "WorkerCrash: the worker process exited with status 13\n",
  };
  results.outcome(withReports, 1);
  results.outcome(lost, 1);
  await two;
  assert.deepEqual(received, [
    { type: "pytestOutcome", event: withReports },
    { type: "pytestOutcome", event: lost },
  ]);

  pytest.send({ type: "stopWork", reason: "stopping after 1 failures" });
  await once(channel, "message");
  assert.equal(stopped, 1);

  end();
  results.outcome({ ...lost, test: "app/test_a.py::test_three" }, 1);
  pytest.send({ type: "stopWork", reason: "again" });
  await once(channel, "message");
  assert.equal(stopped, 1, "the relay is gone once ended");
  assert.equal(received.length, 2);
  engineEnd.destroy();
  pytestEnd.destroy();
});

test("only a pytest bridge turns the relay on", () => {
  const hello = (flavour?: "pytest" | "django") =>
    ({
      runnerOptions: flavour ? { flavour } : null,
    }) as unknown as BridgeHello;
  assert.equal(isPytestRun(hello("pytest")), true);
  assert.equal(isPytestRun(hello("django")), false);
  assert.equal(isPytestRun(hello()), false);
});

// The fork launcher against a scripted bridge over a real socket: one forkWorkers request for
// many slots, each pid from `forked`, each exit from `workerExited` (signal numbers as names);
// and the pool's folder, which a killed run leaves for the next to remove.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { Channel } from "../src/protocol/channel.ts";
import type { FromBridge, ToBridge } from "../src/protocol/messages.ts";
import { makePoolDir } from "../src/workers/pool-dirs.ts";
import { ForkLauncher, type ProcessExit } from "../src/workers/processes.ts";
import { until } from "./helpers/fake-worker-pool.ts";

test("the fork launcher asks the bridge once and routes each pid and exit to its slot", { timeout: 5000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "dct-fork-"));
  const socketPath = path.join(dir, "bridge.sock");
  const requests: ToBridge[] = [];
  const server = createServer((socket: Socket) => {
    // The bridge's side: answers a fork request with pids, then reports one exit per worker.
    const bridgeSide = new Channel<ToBridge, FromBridge>(socket);
    bridgeSide.on("message", (message) => {
      requests.push(message);
      if (message.type !== "forkWorkers") return;
      for (const slot of message.slots) bridgeSide.send({ type: "forked", slot, pid: 5000 + slot });
      bridgeSide.send({ type: "workerExited", slot: 2, pid: 5002, code: null, signal: 9 });
      bridgeSide.send({ type: "workerExited", slot: 1, pid: 5001, code: 3, signal: null });
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  const channel = new Channel<FromBridge, ToBridge>(connect(socketPath));
  const launcher = new ForkLauncher({
    channel,
    forkWorkers: (sp, slots) => channel.send({ type: "forkWorkers", socketPath: sp, slots }),
  });
  const seen: string[] = [];
  const target = (slot: number) => ({
    slot,
    onPid: (pid: number) => seen.push(`${slot} pid ${pid}`),
    onExit: (exit: ProcessExit) => seen.push(`${slot} exit ${exit.code ?? exit.signal}`),
  });
  launcher.launch([target(1), target(2)], "/tmp/workers.sock");
  await launcher.settle(2000);
  await until(() => seen.length === 4, "both exits");

  assert.deepEqual(requests, [{ type: "forkWorkers", socketPath: "/tmp/workers.sock", slots: [1, 2] }]);
  assert.deepEqual(seen, ["1 pid 5001", "2 pid 5002", "2 exit SIGKILL", "1 exit 3"]);
  channel.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

test("a run's pool folder is named by its pid; the next run removes those of engines that are gone", () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "dct-fork-"));
  try {
    // A pid no process has (above Linux's pid_max), the folder of a live process, an unrelated one.
    const gone = path.join(tmp, "dct-99999999-AbC123");
    const live = path.join(tmp, `dct-${process.ppid}-XyZ789`);
    const other = path.join(tmp, "dct-edges-AbC123");
    for (const dir of [gone, live, other]) mkdirSync(dir);
    writeFileSync(path.join(gone, "stack-1-1.txt"), "");
    const made = makePoolDir(tmp);
    assert.match(path.basename(made), new RegExp(`^dct-${process.pid}-[A-Za-z0-9]{6}$`));
    assert.deepEqual(
      readdirSync(tmp).sort(),
      [path.basename(made), "dct-edges-AbC123", `dct-${process.ppid}-XyZ789`].sort(),
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

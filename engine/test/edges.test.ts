// Bad numbers, absurd counts, unreadable lines, vendors the engine cannot clone, and the keys
// that tie timings and baselines to their run. The black-box refusals are in
// tests/test_safety.py and tests/test_edges.py.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, connect, type Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { resolveConfig } from "../src/config/resolve.ts";
import { ConfigError, SecurityException } from "../src/core/errors.ts";
import { Channel, ProtocolError } from "../src/protocol/channel.ts";
import type { DatabaseSettings, ProjectSettings, TestClassInfo } from "../src/protocol/messages.ts";
import { selectionKeyOf } from "../src/reporters/sequential-baseline.ts";
import { RunResults } from "../src/results/run-results.ts";
import { checkOptIn, runSafetyGate } from "../src/safety/gate.ts";
import { checkConnectionRoom } from "../src/databases/privileges.ts";
import { parseShard } from "../src/config/shard.ts";
import { selectShard } from "../src/scheduling/sharding.ts";
import { saveTimings, shardTimingsPath, timingsPath } from "../src/scheduling/timings.ts";

/** Folders the tests made, removed when the file is done. */
const made: string[] = [];
after(() => Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true }))));

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "dct-edges-"));
  made.push(dir);
  return dir;
}

function config(cli: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}, settingsConfig: unknown = null) {
  return resolveConfig({ cli: { workers: 2, ...cli }, labels: [], env, settingsConfig });
}

function refusal(fn: () => unknown): { name: string; message: string; hint: string | undefined } {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError || error instanceof SecurityException, String(error));
    return { name: error.name, message: error.message, hint: error.hint };
  }
  assert.fail("expected a refusal");
}

function sqlite(name: string, vendor = "sqlite", testName: string | null = null): DatabaseSettings {
  return {
    engine: "custom.backend",
    name,
    user: null,
    password: null,
    host: null,
    port: null,
    vendor,
    test: { name: testName, mirror: null, dependencies: null, charset: null, collation: null, template: null },
  };
}

function project(databases: Record<string, DatabaseSettings>): ProjectSettings {
  return { debug: true, settingsModule: "s", installedApps: [], databases, concurrentTestConfig: null };
}

test("non-finite and malformed numbers are ConfigErrors with a hint, wherever they are read", () => {
  for (const value of ["inf", "nan", "-inf", "Infinity", "0", "soon"]) {
    const cli = refusal(() => config({ timeout: value }));
    assert.equal(cli.message, `--timeout must be a finite number of seconds above 0, not ${JSON.stringify(value)}`);
    assert.ok(cli.hint);
    const env = refusal(() => config({}, { DJANGO_TEST_TIMEOUT: value }));
    assert.match(env.message, /^DJANGO_TEST_TIMEOUT must be a finite number/);
    assert.ok(env.hint);
  }
  assert.equal(
    refusal(() => config({}, {}, { timeout: "inf" })).message,
    'CONCURRENT_TEST_CONFIG["timeout"] must be number, not "inf"',
  );
  assert.ok(refusal(() => config({ workers: "many" })).hint);
  assert.ok(refusal(() => config({ workers: null }, { DJANGO_TEST_WORKERS: "0" })).hint);
  assert.equal(config({ timeout: "2.5" }).timeout, 2.5);
});

test("absurd worker and shard counts are refused before anything is planned per worker", () => {
  assert.equal(
    refusal(() => config({ workers: 1_000_000_000 })).message,
    "--workers 1000000000 is more than the 1024 workers one run may start",
  );
  assert.equal(
    refusal(() => config({ workers: null }, { DJANGO_TEST_WORKERS: "1000000000" })).message,
    "DJANGO_TEST_WORKERS 1000000000 is more than the 1024 workers one run may start",
  );
  assert.equal(config({ workers: 1024 }).workers, 1024);
  assert.equal(
    refusal(() => parseShard("1/1000000000")).message,
    "--shard 1/1000000000 asks for more than 1024 shards",
  );
  assert.ok(refusal(() => parseShard("3/2")).hint);
});

test("more shards than test classes is refused with the number that would work", async () => {
  const classes = [0, 1].map(
    (index): TestClassInfo =>
      ({
        index,
        label: `app.tests.T${index}`,
        kind: "TestCase",
        tests: [{ id: `app.tests.T${index}.test` }],
      }) as TestClassInfo,
  );
  const dir = await tempDir();
  await assert.rejects(selectShard(classes, { index: 1, total: 3 }, dir, new RunResults()), {
    message: "--shard 1/3 splits the suite into more parts than its 2 test classes",
    hint: "use at most 2 shards for this selection of tests",
  });
  assert.equal((await selectShard(classes, { index: 2, total: 2 }, dir, new RunResults())).length, 1);
});

test("both missing opt-ins are reported at once", () => {
  const both = refusal(() => checkOptIn(config(), {}));
  assert.equal(
    both.message,
    "concurrent testing is disabled: DJANGO_ENABLE_CONCURRENT is not set; NO_TELEMETRY=1 is required: NO_TELEMETRY is not set",
  );
  assert.match(both.hint!, /^set DJANGO_ENABLE_CONCURRENT=1 .*; and set NO_TELEMETRY=1/);
  const one = refusal(() =>
    checkOptIn(config({}, { DJANGO_ENABLE_CONCURRENT: "1" }), { DJANGO_ENABLE_CONCURRENT: "1" }),
  );
  assert.equal(one.message, "NO_TELEMETRY=1 is required: NO_TELEMETRY is not set");
});

test("a vendor the engine cannot clone gets the same name rules", () => {
  const env = { DJANGO_ENABLE_CONCURRENT: "1", NO_TELEMETRY: "1" };
  const gate = (testName: string | null, name = "/srv/app/edge.sqlite3") =>
    runSafetyGate(config({}, env), project({ default: sqlite(name, "othersql", testName) }), env);
  assert.match(refusal(() => gate('test_x"; --')).message, /double quote \(U\+0022\) at position 7$/);
  assert.match(refusal(() => gate("/tmp/test_edge_live.db")).message, /production pattern \/_live\$\/$/);
  assert.match(refusal(() => gate("/tmp/edge_copy.db")).message, /matches no test database pattern$/);
  // Files keep their dots and directories; no guess is made at what "test_" + a path would be.
  assert.doesNotThrow(() => gate("/tmp/test_edge.sqlite3"));
  assert.doesNotThrow(() => gate(null));
  assert.doesNotThrow(() => gate(":memory:"));
});

test("more workers than the server has connections left is refused, saying how many fit", () => {
  const db = { ...sqlite("shop", "postgresql"), host: "127.0.0.1", port: "5432" };
  assert.doesNotThrow(() => checkConnectionRoom({ limit: 100, inUse: 10 }, 89, "default", db));
  const refused = refusal(() => checkConnectionRoom({ limit: 100, inUse: 10 }, 90, "default", db));
  assert.equal(
    refused.message,
    '90 workers need 91 connections to DATABASES["default"] (postgresql at 127.0.0.1:5432), which accepts 90 more (limit 100, 10 in use)',
  );
  assert.match(refused.hint!, /^use at most 89 workers/);
});

test("an unreadable line closes the channel with the reason instead of leaving a wait open", async () => {
  const socketPath = path.join(os.tmpdir(), `dct-edges-${process.pid}.sock`);
  const server = createServer();
  const accepted = new Promise<Socket>((resolve) => server.once("connection", resolve));
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  const client = connect(socketPath);
  const channel = new Channel<{ type: string }, { type: string }>(await accepted);
  const waiting = channel.next("hello");
  client.write('{"type":"hello","timeout":NaN}\n');
  await assert.rejects(waiting, (error: unknown) => {
    assert.ok(error instanceof ProtocolError);
    assert.match(error.message, /not a JSON message, so the run cannot go on: "\{\\"type\\":\\"hello\\"/);
    return true;
  });
  assert.ok(channel.failure instanceof ProtocolError);
  await assert.rejects(channel.next("hello"), ProtocolError); // later waits end too
  client.destroy();
  server.close();
});

test("a shard writes its timings beside the common input, which it leaves alone", async () => {
  const dir = await tempDir();
  const results = new RunResults();
  const info = { index: 0, label: "app.tests.T", kind: "TestCase", tests: [{ id: "app.tests.T.test" }] };
  results.classStarted(info as TestClassInfo, 1);
  results.classFinished(0);
  results.shard = {
    index: 2,
    total: 4,
    plan: "p",
    indices: [0],
    classes: 1,
    tests: 1,
    estimatedSeconds: 1,
    allSeconds: [1, 1, 1, 1],
  };
  assert.equal(await saveTimings(dir, results), shardTimingsPath(dir, { index: 2, total: 4 }));
  assert.match(
    shardTimingsPath(dir, { index: 2, total: 4 }),
    /\.django-concurrent-test\/shards\/timings-2-of-4\.json$/,
  );
  await assert.rejects(readFile(timingsPath(dir)));
  const written = JSON.parse(await readFile(shardTimingsPath(dir, { index: 2, total: 4 }), "utf8"));
  assert.deepEqual(Object.keys(written.classes), ["app.tests.T"]);
});

test("the sequential baseline's key changes with the databases, not only the tests", () => {
  const ids = ["a.T.test_1", "a.T.test_2"];
  const onSqlite = selectionKeyOf(ids, { default: sqlite("db.sqlite3") });
  const onPostgres = selectionKeyOf(ids, {
    default: {
      ...sqlite("shop", "postgresql"),
      engine: "django.db.backends.postgresql",
      host: "127.0.0.1",
      port: 5432,
    },
  });
  assert.notEqual(onSqlite, onPostgres);
  assert.equal(onSqlite, selectionKeyOf([...ids].reverse(), { default: sqlite("other.sqlite3") }));
});

test("Ran N tests counts from the databases being ready, as Django's clock does", () => {
  const results = new RunResults();
  results.phases.tests = { start: 100, end: 5100 };
  results.phases.clones = { start: 2000, end: 3100 };
  assert.equal(results.testSeconds, 2);
  results.phases.clones = { start: 0, end: 50 }; // ready before the workers started
  assert.equal(results.testSeconds, 5);
  delete results.phases.clones; // nothing to clone (no database)
  assert.equal(results.testSeconds, 5);
});

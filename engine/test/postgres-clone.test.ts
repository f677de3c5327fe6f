// PostgreSQL clones against the real server: both clone strategies, the record and the
// synchronous_commit setting on each clone, a busy template named in the error, and the sweep.
// The server tests run at once (each on names of its own): most of their time is the server's
// checkpoints for CREATE and DROP DATABASE, which concurrent statements share.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { sweepOrphans } from "../src/databases/sweep.ts";
import { PostgresBackend } from "../src/databases/postgres.ts";
import { namePolicy } from "../src/safety/names.ts";
import { deadOwner, randomHash, reachable, serverSettings, SUFFIX, cloneRecord as record } from "./helpers/servers.ts";

const settings = serverSettings("postgresql");
const connect = (database = "postgres", application_name = "dct-unit-test") =>
  new pg.Client({
    host: "127.0.0.1",
    user: "postgres",
    database,
    application_name,
    connectionTimeoutMillis: 3000,
  });
let admin: pg.Client;
let skip: string | false = false;

before(async () => {
  skip = await reachable("postgres", async () => {
    const c = connect();
    await c.connect();
    await c.end();
  });
  if (!skip) {
    admin = connect();
    await admin.connect();
  }
});
after(async () => admin?.end());

async function makeTemplate(backend: PostgresBackend, name: string): Promise<void> {
  await backend.createDatabase(name, { ...record(), role: "template" });
  const c = connect(name);
  await c.connect();
  await c.query(
    "CREATE TABLE genre (id int PRIMARY KEY, name text); INSERT INTO genre VALUES (0, 'zero'), (1, 'essay')",
  );
  await c.end();
}

// The retry loop, driven by a scripted pool: no server, no waiting. (PostgreSQL itself waits
// 5 s inside each CREATE DATABASE for the template's other sessions to go, so the same loop on a
// real server costs 5 s an attempt.)
function scriptedBackend(busyAttempts: number, attempts: number) {
  const backend = new PostgresBackend(
    { settings: serverSettings("postgresql"), policy: namePolicy(), concurrency: 1 },
    { attempts, firstDelayMs: 1, factor: 2 },
  );
  const statements: string[] = [];
  const pool = {
    async query(sql: string) {
      statements.push(sql.split(" ").slice(0, 2).join(" "));
      if (
        sql.startsWith("CREATE DATABASE") &&
        statements.filter((s) => s === "CREATE DATABASE").length <= busyAttempts
      ) {
        throw Object.assign(new Error('source database "t" is being accessed by other users'), { code: "55006" });
      }
      if (sql.includes("pg_stat_activity")) {
        return { rows: [{ pid: 4711, application_name: "psql", client_addr: null }] };
      }
      return { rows: [] };
    },
  };
  (backend as unknown as { pool: typeof pool }).pool = pool;
  return { backend, creates: () => statements.filter((s) => s === "CREATE DATABASE").length };
}

test("a busy template is retried until it is free", async () => {
  const { backend, creates } = scriptedBackend(2, 3);
  await backend.cloneDatabase("test_unit_0123456789", "test_unit_0123456789_1", record());
  assert.equal(creates(), 3);
});

test("a template still busy after the last attempt: an error naming the sessions that block it", async () => {
  const { backend, creates } = scriptedBackend(Infinity, 3);
  await assert.rejects(
    backend.cloneDatabase("test_unit_0123456789", "test_unit_0123456789_1", record()),
    (error: Error) => {
      assert.match(error.message, /being accessed by other users/);
      assert.match(error.message, /pid 4711 \(psql, local socket\)/);
      return true;
    },
  );
  assert.equal(creates(), 3);
});

describe("against the server", { concurrency: true }, () => {
  for (const strategy of ["file_copy", "wal_log"] as const) {
    test(`clones made with ${strategy} carry rows, the record and synchronous_commit=off`, async (t) => {
      if (skip) return t.skip(skip);
      const backend = new PostgresBackend({
        settings,
        policy: namePolicy(),
        concurrency: 2,
        options: {
          postgresCloneStrategy: strategy,
          postgresSynchronousCommit: false,
        },
      });
      const template = `test_unit${SUFFIX}_${randomHash()}`;
      const clones = [`${template}_1`, `${template}_2`];
      try {
        await makeTemplate(backend, template);
        await Promise.all(clones.map((c) => backend.cloneDatabase(template, c, record())));
        for (const clone of clones) {
          const c = connect(clone);
          await c.connect();
          assert.deepEqual(
            (await c.query("SELECT name FROM genre ORDER BY id")).rows.map((r) => r.name),
            ["zero", "essay"],
          );
          assert.equal((await c.query("SHOW synchronous_commit")).rows[0].synchronous_commit, "off");
          await c.end();
        }
        const listed = await backend.listDatabases(`${template}_`);
        assert.deepEqual(
          listed.map((d) => [d.name, d.record?.role, d.record?.complete]),
          clones.map((c) => [c, "clone", true]),
        );
      } finally {
        for (const name of [...clones, template]) await backend.dropDatabase(name);
        await backend.close();
      }
    });
  }

  test("on the server, the sessions keeping a template busy are named: pid, application_name, address", async (t) => {
    if (skip) return t.skip(skip);
    const backend = new PostgresBackend({ settings, policy: namePolicy(), concurrency: 1 });
    const template = `test_unit${SUFFIX}_${randomHash()}`;
    const blocker = connect(template, "dct-blocking-session");
    const describe = (name: string) =>
      (backend as unknown as { describeSessions(name: string): Promise<string> }).describeSessions(name);
    try {
      await makeTemplate(backend, template);
      assert.equal(await describe(template), "");
      await blocker.connect();
      const pid = (await blocker.query("SELECT pg_backend_pid() AS pid")).rows[0].pid as number;
      assert.match(
        await describe(template),
        new RegExp(`^; sessions using it: pid ${pid} \\(dct-blocking-session, 127\\.0\\.0\\.1`),
      );
    } finally {
      await blocker.end().catch(() => undefined);
      await backend.dropDatabase(template);
      await backend.close();
    }
  });

  test("the sweep drops what a gone owner left and nothing else", async (t) => {
    if (skip) return t.skip(skip);
    const backend = new PostgresBackend({
      settings,
      policy: namePolicy(),
      concurrency: 1,
    });
    // A prefix of its own: the sweep must see no other test's databases.
    const prefix = `test_sweep${SUFFIX}_`;
    const template = `${prefix}${randomHash()}`;
    const foreign = `${prefix}${randomHash()}`;
    try {
      await backend.createDatabase(template, {
        ...record({ owner: deadOwner() }),
        role: "template",
      });
      await backend.createDatabase(`${template}_1`, record({ owner: deadOwner() }));
      await backend.createDatabase(`${template}_2`, record({ owner: deadOwner() }));
      await admin.query(`CREATE DATABASE "${foreign}"`); // the engine's name shape, no record
      const dropped = (await sweepOrphans(backend, prefix)).filter((a) => a.dropped).map((a) => a.name);
      assert.deepEqual(dropped.sort(), [template, `${template}_1`, `${template}_2`].sort());
      assert.deepEqual(
        (await backend.listDatabases(prefix)).map((d) => d.name),
        [foreign],
      );
    } finally {
      for (const name of [`${template}_1`, `${template}_2`, template]) await backend.dropDatabase(name);
      await admin.query(`DROP DATABASE IF EXISTS "${foreign}"`);
      await backend.close();
    }
  });

  test("a template with a clone in use by a live run is not dropped", async (t) => {
    if (skip) return t.skip(skip);
    const backend = new PostgresBackend({
      settings,
      policy: namePolicy(),
      concurrency: 1,
    });
    const template = `test_unit${SUFFIX}_${randomHash()}`;
    try {
      await backend.createDatabase(template, {
        ...record({ owner: deadOwner() }),
        role: "template",
      });
      await backend.createDatabase(`${template}_1`, record());
      const actions = await sweepOrphans(backend, template, { reportKept: true });
      assert.deepEqual(
        actions.map((a) => [a.name, a.dropped]),
        [
          [`${template}_1`, false],
          [template, false],
        ],
      );
      assert.match(actions[1]!.reason, /clones are in use/);
    } finally {
      await backend.dropDatabase(`${template}_1`);
      await backend.dropDatabase(template);
      await backend.close();
    }
  });
});

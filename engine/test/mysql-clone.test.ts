// MySQL/MariaDB clones against the real server: every kind of object and every row arrives, in
// both places a record can live (MariaDB's database comment, MySQL 8's one-row table), errors
// name the clone and the step, and the orphan sweep drops only what a gone owner left.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import mysql from "mysql2/promise";
import { sweepOrphans } from "../src/databases/sweep.ts";
import { MysqlBackend, withoutDefiner } from "../src/databases/mysql.ts";
import { namePolicy } from "../src/safety/names.ts";
import { deadOwner, randomHash, reachable, serverSettings, SUFFIX, cloneRecord as record } from "./helpers/servers.ts";

const settings = serverSettings("mysql");
let root: mysql.Connection;
let skip: string | false = false;

before(async () => {
  skip = await reachable("mariadb", async () =>
    (
      await mysql.createConnection({
        host: "127.0.0.1",
        user: "root",
        connectTimeout: 3000,
      })
    ).end(),
  );
  if (!skip)
    root = await mysql.createConnection({
      host: "127.0.0.1",
      user: "root",
      multipleStatements: true,
    });
});
after(async () => root?.end());

async function makeTemplate(backend: MysqlBackend, name: string): Promise<void> {
  await backend.createDatabase(name, { ...record(), role: "template" });
  await root.query(`USE \`${name}\`;
    CREATE TABLE genre (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(20) CHARACTER SET utf8mb4 NOT NULL UNIQUE);
    CREATE TABLE book (id INT PRIMARY KEY AUTO_INCREMENT, genre_id INT NOT NULL, pages INT NOT NULL DEFAULT 0,
      doubled INT AS (pages * 2) VIRTUAL, title_length INT NOT NULL DEFAULT 0,
      CONSTRAINT book_genre FOREIGN KEY (genre_id) REFERENCES genre (id));
    CREATE TABLE empty_one (id INT PRIMARY KEY);
    SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO');
    INSERT INTO genre (id, name) VALUES (0, 'zero'), (1, 'essay'), (2, 'ünïcode');
    INSERT INTO book (genre_id, pages) VALUES (1, 10), (2, 20);
    CREATE VIEW genre_names AS SELECT name FROM genre;
    CREATE VIEW genre_names_upper AS SELECT UPPER(name) AS n FROM genre_names;
    CREATE TRIGGER book_length BEFORE INSERT ON book FOR EACH ROW SET NEW.title_length = NEW.pages + 1000;
    CREATE FUNCTION add_one(n INT) RETURNS INT DETERMINISTIC RETURN n + 1;
    CREATE PROCEDURE count_genres(OUT total INT) SELECT COUNT(*) INTO total FROM genre;
    CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM book WHERE 1 = 0;
    USE mysql`);
}

for (const mode of ["comment", "table"] as const) {
  describe(`a clone carries everything (records as ${mode})`, () => {
    test("tables, foreign keys, rows (id 0 included), generated columns, views, triggers, routines, events", async (t) => {
      if (skip) return t.skip(skip);
      const backend = new MysqlBackend({ settings, policy: namePolicy(), concurrency: 3 }, mode);
      const template = `test_unit${SUFFIX}_${randomHash()}`;
      const clones = [1, 2, 3].map((n) => `${template}_${n}`);
      try {
        await makeTemplate(backend, template);
        await Promise.all(clones.map((c) => backend.cloneDatabase(template, c, record())));
        for (const clone of clones) {
          const q = async (sql: string) =>
            (await root.query(`USE \`${clone}\``), await root.query(sql))[0] as Record<string, unknown>[];
          assert.deepEqual(
            (await q("SELECT id, name FROM genre ORDER BY id")).map((r) => [r.id, r.name]),
            [
              [0, "zero"],
              [1, "essay"],
              [2, "ünïcode"],
            ],
          );
          assert.deepEqual(
            (await q("SELECT doubled FROM book ORDER BY id")).map((r) => r.doubled),
            [20, 40],
          );
          assert.match(
            String((await q("SHOW CREATE TABLE book"))[0]!["Create Table"]),
            /CONSTRAINT `book_genre` FOREIGN KEY/,
          );
          await assert.rejects(q("INSERT INTO book (genre_id) VALUES (99)"), /foreign key constraint/i);
          assert.equal((await q("SELECT COUNT(*) AS n FROM genre_names_upper"))[0]!.n, 3);
          await q("INSERT INTO book (genre_id, pages) VALUES (1, 5)");
          assert.equal((await q("SELECT title_length FROM book WHERE pages = 5"))[0]!.title_length, 1005);
          assert.equal((await q("SELECT add_one(41) AS n"))[0]!.n, 42);
          await q("CALL count_genres(@t)");
          assert.equal((await q("SELECT @t AS n"))[0]!.n, 3);
          assert.equal(
            (await q("SELECT COUNT(*) AS n FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()"))[0]!.n,
            1,
          );
          const [schema] = await q(
            `SELECT DEFAULT_COLLATION_NAME AS c FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '${clone}'`,
          );
          const [source] = await q(
            `SELECT DEFAULT_COLLATION_NAME AS c FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '${template}'`,
          );
          assert.equal(schema!.c, source!.c);
        }
        const listed = await backend.listDatabases(template);
        assert.deepEqual(listed.map((d) => d.name).sort(), [template, ...clones].sort());
        assert.ok(listed.every((d) => d.record?.complete));
      } finally {
        for (const name of [...clones, template]) await backend.dropDatabase(name);
        await backend.close();
      }
    });
  });
}

test("a failed copy names the clone and the step", async (t) => {
  if (skip) return t.skip(skip);
  const backend = new MysqlBackend({
    settings,
    policy: namePolicy(),
    concurrency: 1,
  });
  const template = `test_unit${SUFFIX}_${randomHash()}`;
  try {
    await makeTemplate(backend, template);
    // A view over a table the clone will not have: the view's creation fails.
    await root.query(`CREATE VIEW \`${template}\`.broken AS SELECT 1 AS x`);
    await root.query(
      `USE \`${template}\`; CREATE TABLE gone (id INT); CREATE OR REPLACE VIEW broken AS SELECT id FROM gone; DROP TABLE gone; USE mysql`,
    );
    await assert.rejects(backend.cloneDatabase(template, `${template}_1`, record()), (error: Error) => {
      assert.match(error.message, new RegExp(`could not copy "${template}" into "${template}_1" \\(`));
      return true;
    });
  } finally {
    await backend.dropDatabase(`${template}_1`);
    await backend.dropDatabase(template);
    await backend.close();
  }
});

test("the sweep drops only what a gone owner left, under the engine's names and records", async (t) => {
  if (skip) return t.skip(skip);
  const backend = new MysqlBackend({
    settings,
    policy: namePolicy(),
    concurrency: 1,
  });
  const template = `test_unit${SUFFIX}_${randomHash()}`;
  const foreign = `test_unit${SUFFIX}_${randomHash()}_1`; // our name shape, no record of ours
  try {
    await backend.createDatabase(template, {
      ...record({ kept: true, owner: null }),
      role: "template",
    });
    await backend.createDatabase(`${template}_1`, record({ owner: deadOwner() }));
    await backend.createDatabase(`${template}_2`, record());
    await backend.createDatabase(`${template}_3`, record({ kept: true, owner: null }));
    await root.query(`CREATE DATABASE \`${foreign}\``);
    const actions = await sweepOrphans(backend, `test_unit${SUFFIX}_`);
    assert.deepEqual(
      actions.filter((a) => a.dropped).map((a) => a.name),
      [`${template}_1`],
    );
    const left = (await backend.listDatabases(`test_unit${SUFFIX}_`)).map((d) => d.name);
    assert.deepEqual(left.sort(), [template, `${template}_2`, `${template}_3`, foreign].sort());
  } finally {
    for (const n of [1, 2, 3]) await backend.dropDatabase(`${template}_${n}`);
    await backend.dropDatabase(template);
    await root.query(`DROP DATABASE IF EXISTS \`${foreign}\``);
    await backend.close();
  }
});

test("a named lock is held against another connection until released", async (t) => {
  if (skip) return t.skip(skip);
  const a = new MysqlBackend({
    settings,
    policy: namePolicy(),
    concurrency: 1,
  });
  const b = new MysqlBackend({
    settings,
    policy: namePolicy(),
    concurrency: 1,
  });
  const name = `test_unit${SUFFIX}_${randomHash()}`;
  try {
    const held = await a.lock(name, () => undefined, 1000);
    assert.equal(await b.tryLock(name), null);
    await held.release();
    const again = await b.tryLock(name);
    assert.ok(again);
    await again.release();
  } finally {
    await a.close();
    await b.close();
  }
});

test("definers are dropped from view and program definitions", () => {
  assert.equal(
    withoutDefiner("CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`127.0.0.1` SQL SECURITY DEFINER VIEW `v` AS select 1"),
    "CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v` AS select 1",
  );
  assert.equal(
    withoutDefiner("CREATE DEFINER=`a``b`@`%` TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET @a = 1"),
    "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET @a = 1",
  );
  assert.equal(
    withoutDefiner("CREATE DEFINER=CURRENT_USER FUNCTION f() RETURNS INT RETURN 1"),
    "CREATE FUNCTION f() RETURNS INT RETURN 1",
  );
});

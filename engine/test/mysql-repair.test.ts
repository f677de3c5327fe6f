// Kept MySQL/MariaDB clones that tests wrote to, put back in place against the real server: the
// template's rows return (ids included) without re-creating a table and without firing its
// triggers; a clone whose schema is no longer the template's is left for a fresh copy.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import mysql from "mysql2/promise";
import { MysqlBackend } from "../src/databases/mysql.ts";
import { namePolicy } from "../src/safety/names.ts";
import { randomHash, reachable, serverSettings, SUFFIX, cloneRecord as record } from "./helpers/servers.ts";

const settings = serverSettings("mysql");
let root: mysql.Connection;
let skip: string | false = false;

before(async () => {
  skip = await reachable("mariadb", async () =>
    (await mysql.createConnection({ host: "127.0.0.1", user: "root", connectTimeout: 3000 })).end(),
  );
  if (!skip) root = await mysql.createConnection({ host: "127.0.0.1", user: "root", multipleStatements: true });
});
after(async () => root?.end());

/** A migrated template: tables with rows (as data migrations leave), one without, a view, a trigger. */
async function withClone(
  t: { skip: (why: string) => void },
  body: (backend: MysqlBackend, template: string, clone: string) => Promise<void>,
): Promise<void> {
  if (skip) return t.skip(skip);
  const backend = new MysqlBackend({ settings, policy: namePolicy(), concurrency: 2 });
  const template = `test_repair${SUFFIX}_${randomHash()}`;
  const clone = `${template}_1`;
  try {
    await backend.createDatabase(template, { ...record(), role: "template" });
    await root.query(`USE \`${template}\`;
      CREATE TABLE genre (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(20) NOT NULL UNIQUE);
      CREATE TABLE book (id INT PRIMARY KEY AUTO_INCREMENT, genre_id INT NOT NULL, pages INT NOT NULL,
        doubled INT AS (pages * 2) VIRTUAL, CONSTRAINT book_genre FOREIGN KEY (genre_id) REFERENCES genre (id));
      CREATE TABLE log (id INT PRIMARY KEY AUTO_INCREMENT, line VARCHAR(20));
      INSERT INTO genre (id, name) VALUES (1, 'essay'), (2, 'poetry');
      INSERT INTO book (genre_id, pages) VALUES (1, 10), (2, 20);
      CREATE VIEW genre_names AS SELECT name FROM genre;
      CREATE TRIGGER thick BEFORE INSERT ON book FOR EACH ROW SET NEW.pages = NEW.pages + 1000;
      USE mysql`);
    await backend.cloneDatabase(template, clone, record({ kept: true, owner: null }));
    await body(backend, template, clone);
  } finally {
    await backend.dropDatabase(clone).catch(() => undefined);
    await backend.dropDatabase(template).catch(() => undefined);
    await backend.close();
  }
}

async function rows(database: string, sql: string): Promise<unknown[][]> {
  await root.query(`USE \`${database}\``);
  const [result] = await root.query(sql);
  await root.query("USE mysql");
  return (result as Record<string, unknown>[]).map((r) => Object.values(r));
}

const created = (database: string): Promise<unknown[][]> =>
  rows(
    database,
    `SELECT TABLE_NAME, CREATE_TIME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1`,
  );

test("the rows a flush emptied and the rows tests left come back to the template's, no table re-created", async (t) => {
  await withClone(t, async (backend, template, clone) => {
    // What a TransactionTestCase leaves: its rows, then Django's flush empties every table.
    await root.query(`USE \`${clone}\`; INSERT INTO genre (name) VALUES ('drama'); INSERT INTO log (line) VALUES ('x');
      SET foreign_key_checks = 0; DELETE FROM book; DELETE FROM genre; USE mysql`);
    const before = await created(clone);
    await new Promise((r) => setTimeout(r, 1100)); // CREATE_TIME has seconds: a re-creation would show
    assert.equal(await backend.repairClone(template, clone, record()), true);
    assert.deepEqual(await rows(clone, "SELECT id, name FROM genre ORDER BY id"), [
      [1, "essay"],
      [2, "poetry"],
    ]);
    assert.deepEqual(await rows(clone, "SELECT id, genre_id, pages, doubled FROM book ORDER BY id"), [
      [1, 1, 10, 20],
      [2, 2, 20, 40],
    ]);
    assert.deepEqual(await rows(clone, "SELECT COUNT(*) FROM log"), [[0]]);
    await root.query(`USE \`${clone}\`; INSERT INTO book (genre_id, pages) VALUES (1, 5); USE mysql`);
    assert.deepEqual(await rows(clone, "SELECT pages FROM book WHERE id = 3"), [[1005]], "the trigger is back");
    assert.deepEqual(await created(clone), before, "repaired in place");
    const [kept] = (await backend.listDatabases(clone)).filter((d) => d.name === clone);
    assert.deepEqual(kept?.record, { ...record(), clean: false }, "recorded complete, with the run's record");
  });
});

test("a clone whose schema changed, or that has objects the template lacks, is left for a fresh copy", async (t) => {
  await withClone(t, async (backend, template, clone) => {
    await root.query(`USE \`${clone}\`; DELETE FROM book; ALTER TABLE log ADD COLUMN extra INT; USE mysql`);
    assert.equal(await backend.repairClone(template, clone, record()), false);
    assert.deepEqual(await rows(clone, "SELECT COUNT(*) FROM book"), [[0]], "nothing refilled");
    const [left] = (await backend.listDatabases(clone)).filter((d) => d.name === clone);
    assert.equal(left?.record?.complete, false, "never recorded complete");
  });
  await withClone(t, async (backend, template, clone) => {
    await root.query(`USE \`${clone}\`; CREATE TRIGGER another AFTER INSERT ON genre FOR EACH ROW SET @x = 1;
      USE mysql`);
    assert.equal(await backend.repairClone(template, clone, record()), false);
  });
  await withClone(t, async (backend, template, clone) => {
    await root.query(`USE \`${clone}\`; CREATE TABLE made_by_a_test (id INT PRIMARY KEY); USE mysql`);
    assert.equal(await backend.repairClone(template, clone, record()), false);
  });
});

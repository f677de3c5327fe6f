// Template snapshot files: a whole file round-trips; a damaged, truncated or foreign one (other
// fingerprint, vendor, server, template, format) is refused with its reason and never restored;
// a failed write leaves nothing; a missing or failing client tool is one error; the MySQL/MariaDB
// payload carries every value exactly (against the real server when it is reachable).
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PassThrough, Readable, type Writable } from "node:stream";
import { after, test } from "node:test";
import mysql from "mysql2/promise";
import type { DatabaseBackend } from "../src/databases/backend.ts";
import { MysqlBackend } from "../src/databases/mysql.ts";
import { currentOwner } from "../src/databases/owner.ts";
import { decodeValue, encodeValue, LineReader, readRows } from "../src/databases/snapshots-mysql.ts";
import { restoreFromSnapshot, saveSnapshot, type SnapshotTarget } from "../src/databases/snapshots-templates.ts";
import { runTool } from "../src/databases/snapshots-tools.ts";
import {
  HEADER_SIZE,
  openSnapshot,
  removeStaleSnapshots,
  snapshotPath,
  writeSnapshot,
  type SnapshotIdentity,
} from "../src/databases/snapshots.ts";
import { namePolicy } from "../src/safety/names.ts";
import { randomHash, reachable, serverSettings, SUFFIX } from "./helpers/servers.ts";

const FINGERPRINT = "0123456789abcdef".repeat(4);
const ID: SnapshotIdentity = {
  vendor: "postgresql",
  server: "PostgreSQL 15",
  fingerprint: FINGERPRINT,
  template: "test_shop_0123456789",
};
const PAYLOAD = Buffer.from("the template's schema and rows ".repeat(500));

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function folder(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "dct-snapshots-"));
  dirs.push(dir);
  return dir;
}

async function saved(payload: Buffer = PAYLOAD): Promise<string> {
  const file = snapshotPath(folder(), ID.vendor, ID.template);
  await writeSnapshot(file, ID, async (out) => void out.end(payload));
  return file;
}

async function read(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function refusal(file: string, expected: SnapshotIdentity = ID): Promise<string> {
  const opened = await openSnapshot(file, expected);
  assert.ok(opened && !opened.ok, "the snapshot should have been refused");
  return opened.reason;
}

test("a snapshot round-trips: its manifest names what it was made for, the payload comes back", async () => {
  const file = await saved();
  assert.equal(path.basename(file), "test_shop_0123456789.postgresql.snapshot");
  const opened = await openSnapshot(file, ID);
  assert.ok(opened?.ok);
  assert.equal(opened.manifest.format, 1);
  assert.equal(opened.manifest.fingerprint, FINGERPRINT);
  assert.equal(opened.manifest.size, PAYLOAD.length);
  assert.deepEqual(await read(opened.payload()), PAYLOAD);
  assert.deepEqual(readdirSync(path.dirname(file)), [path.basename(file)]); // no temporary file left
});

test("no file is no snapshot, not an error", async () => {
  assert.equal(await openSnapshot(path.join(folder(), "missing.snapshot"), ID), null);
});

test("one changed payload byte is refused by the checksum", async () => {
  const file = await saved();
  const bytes = readFileSync(file);
  bytes[HEADER_SIZE + 100] = bytes[HEADER_SIZE + 100]! ^ 0x01;
  writeFileSync(file, bytes);
  assert.match(await refusal(file), /checksum does not match/);
});

test("a truncated file is refused, in the payload or in the header", async () => {
  const file = await saved();
  truncateSync(file, HEADER_SIZE + PAYLOAD.length - 1);
  assert.match(await refusal(file), /truncated/);
  truncateSync(file, 200);
  assert.match(await refusal(file), /truncated/);
});

test("a damaged header or a file that is no snapshot is refused", async () => {
  const file = await saved();
  const bytes = readFileSync(file);
  bytes.write("#", 0);
  writeFileSync(file, bytes);
  assert.match(await refusal(file), /header is damaged/);
  writeFileSync(file, Buffer.alloc(HEADER_SIZE + 10, "{}"));
  assert.match(await refusal(file), /damaged|not a django-concurrent-test snapshot/);
});

test("a snapshot made for another fingerprint, vendor, server or template is refused", async () => {
  const file = await saved();
  assert.match(await refusal(file, { ...ID, fingerprint: "f".repeat(64) }), /other migrations/);
  assert.match(await refusal(file, { ...ID, vendor: "mysql" }), /made for postgresql, not mysql/);
  assert.match(await refusal(file, { ...ID, server: "PostgreSQL 17" }), /made on PostgreSQL 15/);
  assert.match(await refusal(file, { ...ID, template: "test_other_0123456789" }), /template/);
});

test("an unknown format version is refused", async () => {
  const file = await saved();
  const bytes = readFileSync(file);
  const header = bytes.subarray(0, HEADER_SIZE).toString().replace('"format":1', '"format":9');
  bytes.write(header, 0);
  writeFileSync(file, bytes);
  assert.match(await refusal(file), /unknown format version 9/);
});

test("a write that fails leaves neither the snapshot nor a temporary file", async () => {
  const dir = folder();
  const file = snapshotPath(dir, ID.vendor, ID.template);
  await assert.rejects(
    writeSnapshot(file, ID, async (out) => {
      out.write(PAYLOAD);
      throw new Error("pg_dump failed: connection lost");
    }),
    /connection lost/,
  );
  assert.deepEqual(readdirSync(dir), []);
});

test("saving removes the template's older fingerprints, not other templates' snapshots", async () => {
  const dir = folder();
  const older = snapshotPath(dir, "postgresql", "test_shop_aaaaaaaaaa");
  const otherVendor = snapshotPath(dir, "mysql", "test_shop_aaaaaaaaaa");
  const otherTemplate = snapshotPath(dir, "postgresql", "test_shop_other_aaaaaaaaaa");
  for (const f of [older, otherVendor, otherTemplate]) writeFileSync(f, "x");
  const kept = snapshotPath(dir, "postgresql", ID.template);
  writeFileSync(kept, "x");
  assert.deepEqual(await removeStaleSnapshots(dir, kept, "test_shop"), [older]);
  assert.deepEqual(readdirSync(dir).sort(), [otherTemplate, otherVendor, kept].map((f) => path.basename(f)).sort());
});

/** A backend that only snapshots: records what was restored, or fails as told. */
function fakeBackend(fail?: string): DatabaseBackend & { restored: Buffer[] } {
  const restored: Buffer[] = [];
  const unused = (): never => {
    throw new Error("not used");
  };
  return {
    vendor: "postgresql",
    restored,
    listDatabases: unused,
    createDatabase: unused,
    cloneDatabase: unused,
    writeRecord: unused,
    dropDatabase: unused,
    lock: unused,
    tryLock: unused,
    close: async () => undefined,
    snapshotServer: async () => "PostgreSQL 15",
    dumpDatabase: async (_name: string, out: Writable) => void out.end(PAYLOAD),
    restoreDatabase: async (_name: string, input: Readable) => {
      restored.push(await read(input));
      if (fail) throw new Error(fail);
    },
  };
}

function target(backend: DatabaseBackend, hash = FINGERPRINT): SnapshotTarget {
  return { alias: "default", vendor: "postgresql", name: ID.template, hash, backend };
}

test("the template stage restores a saved snapshot, and says so", async () => {
  const lines: string[] = [];
  const ctx = { dir: folder(), verbosity: 1, log: (l: string) => void lines.push(l) };
  assert.equal(await saveSnapshot(target(fakeBackend()), ctx), true);
  const backend = fakeBackend();
  assert.equal(await restoreFromSnapshot(target(backend), ctx), "restored");
  assert.deepEqual(backend.restored, [PAYLOAD]);
  assert.match(lines.join(""), /^Restoring test database for alias 'default' from the snapshot .+\.\.\.\n$/);
});

test("a damaged snapshot is never restored: one line says why, and the run migrates", async () => {
  const lines: string[] = [];
  const ctx = { dir: folder(), verbosity: 1, log: (l: string) => void lines.push(l) };
  await saveSnapshot(target(fakeBackend()), ctx);
  const file = snapshotPath(ctx.dir, "postgresql", ID.template);
  truncateSync(file, HEADER_SIZE + 10);
  const backend = fakeBackend();
  assert.equal(await restoreFromSnapshot(target(backend), ctx), "absent");
  assert.deepEqual(backend.restored, []);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^Ignoring the snapshot .+: the file is truncated .+; migrating instead\.\n$/);
});

test("a snapshot of other migrations is named in one line; verbosity 0 says nothing", async () => {
  const lines: string[] = [];
  const ctx = { dir: folder(), verbosity: 1, log: (l: string) => void lines.push(l) };
  await saveSnapshot({ ...target(fakeBackend()), name: "test_shop_aaaaaaaaaa" }, ctx);
  assert.equal(await restoreFromSnapshot(target(fakeBackend()), ctx), "absent");
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /test_shop_aaaaaaaaaa.+other migrations/);
  assert.equal(await restoreFromSnapshot(target(fakeBackend()), { ...ctx, verbosity: 0 }), "absent");
  assert.equal(lines.length, 1);
});

test("a restore that fails is reported, for the caller to migrate a new database instead", async () => {
  const lines: string[] = [];
  const ctx = { dir: folder(), verbosity: 1, log: (l: string) => void lines.push(l) };
  await saveSnapshot(target(fakeBackend()), ctx);
  assert.equal(await restoreFromSnapshot(target(fakeBackend("pg_restore failed: boom")), ctx), "failed");
  assert.match(lines.at(-1)!, /Could not restore the snapshot .+: pg_restore failed: boom; migrating instead/);
});

test("MySQL rows: text stays text, bytes that are not UTF-8 travel as base64, NULL as null", () => {
  const binary = Buffer.from([0x00, 0xff, 0xfe, 0x80]);
  for (const value of [Buffer.from("ünïcode 🎉"), binary, Buffer.from(""), null]) {
    const back = decodeValue(JSON.parse(JSON.stringify(encodeValue(value))));
    assert.deepEqual(back === null ? null : Buffer.from(back), value);
  }
  assert.deepEqual(encodeValue(binary), { b64: binary.toString("base64") });
  assert.throws(() => decodeValue(12), /neither text, bytes nor NULL/);
});

test("MySQL rows: a payload that ends early or has rows of the wrong width is an error", async () => {
  const lines = (text: string) => new LineReader(Readable.from([text]));
  const insert = async (batch: unknown[][]) => batch.length;
  const header = JSON.stringify({ table: "t", rows: 2 });
  assert.equal(await readRows(lines(`${header}\n["1","a"]\n["2",null]\n`), "t", 2, 2, insert), 2);
  await assert.rejects(readRows(lines(`${header}\n["1","a"]\n`), "t", 2, 2, insert), /ends before row 2 of t/);
  await assert.rejects(readRows(lines(`${header}\n["1"]\n["2"]\n`), "t", 2, 2, insert), /does not have its 2/);
  await assert.rejects(readRows(lines(`{"table":"u","rows":2}\n`), "t", 2, 2, insert), /expected the 2 rows of t/);
});

test("MySQL/MariaDB: a dumped template restores with every value exactly", async (t) => {
  const skip = await reachable("mariadb", async () =>
    (await mysql.createConnection({ host: "127.0.0.1", user: "root", connectTimeout: 3000 })).end(),
  );
  if (skip) return t.skip(skip);
  const root = await mysql.createConnection({ host: "127.0.0.1", user: "root", multipleStatements: true });
  const backend = new MysqlBackend({ settings: serverSettings("mysql"), policy: namePolicy(), concurrency: 1 });
  const template = `test_snap${SUFFIX}_${randomHash()}`;
  const restored = `${template}_1`;
  const record = { role: "template" as const, hash: "h", complete: true, kept: false, owner: currentOwner() };
  const rows = "SELECT id, HEX(b) AS b, t, d, ts, f, j, n, g FROM odd ORDER BY id";
  try {
    await backend.createDatabase(template, record);
    await root.query(`USE \`${template}\`; SET time_zone = '+05:00';
      CREATE TABLE odd (id INT PRIMARY KEY AUTO_INCREMENT, b VARBINARY(8), t TEXT, d DECIMAL(12,4),
        ts TIMESTAMP(6) NULL, f DOUBLE, j LONGTEXT, n INT, g INT AS (n * 2) STORED);
      INSERT INTO odd (b, t, d, ts, f, j, n) VALUES
        (X'00FF80', 'ünïcode 🎉 "quoted"\\nline', 12345678.1234, '2024-02-29 23:59:59.123456', 0.1, '{"a": [1]}', 7),
        (NULL, NULL, NULL, NULL, NULL, NULL, NULL), (X'', '', 0, '1970-01-02 00:00:00', -1e-300, '', 0);
      USE mysql`);
    const pipe = new PassThrough();
    const dumped = read(pipe);
    await backend.dumpDatabase(template, pipe);
    await backend.createDatabase(restored, record);
    await backend.restoreDatabase(restored, Readable.from([await dumped]));
    const [want] = await root.query(`USE \`${template}\`; ${rows}`);
    const [got] = await root.query(`USE \`${restored}\`; ${rows}`);
    assert.deepEqual((got as unknown[])[1], (want as unknown[])[1]);
    const [[counter]] = (await root.query(
      `SELECT AUTO_INCREMENT AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'odd'`,
      [restored],
    )) as [{ n: number }[], unknown];
    assert.equal(Number(counter!.n), 4);
  } finally {
    await backend.dropDatabase(template);
    await backend.dropDatabase(restored);
    await backend.close();
    await root.end();
  }
});

test("a client tool that is missing or fails is one error saying why", async () => {
  await assert.rejects(
    runTool({ command: "dct-no-such-tool", args: [], env: process.env }),
    /dct-no-such-tool is not installed/,
  );
  const script = "process.stdin.resume(); console.error('FATAL: role does not exist'); process.exit(3)";
  await assert.rejects(
    runTool({ command: process.execPath, args: ["-e", script], env: process.env, input: Readable.from([PAYLOAD]) }),
    /failed: FATAL: role does not exist/,
  );
});

// The template cache's pure parts: names that fit the servers' limits and always look like test
// databases, records that never mistake a foreign comment for ours, and owner liveness.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import os from "node:os";
import { test } from "node:test";
import {
  parseEngineName,
  parseServerName,
  parseSqliteName,
  serverCloneName,
  serverTemplateName,
  sqliteTemplateName,
} from "../src/databases/naming.ts";
import { currentOwner, ownerLiveness, processStartTime } from "../src/databases/owner.ts";
import { decodeRecord, encodeRecord, type DatabaseRecord } from "../src/databases/records.ts";
import { looksLikeTest, namePolicy } from "../src/safety/names.ts";

const HASH = "0123456789abcdef".repeat(4);

test("a template is the test name plus ten hash digits; a clone adds the slot", () => {
  const t = serverTemplateName("postgresql", "test_shop", HASH);
  assert.equal(t, "test_shop_0123456789");
  assert.equal(serverCloneName(t, 3), "test_shop_0123456789_3");
  assert.deepEqual(parseServerName("test_shop_0123456789_3"), {
    template: t,
    base: "test_shop",
    hash: "0123456789",
    slot: 3,
  });
  assert.deepEqual(parseServerName(t), {
    template: t,
    base: "test_shop",
    hash: "0123456789",
    slot: null,
  });
});

test("long test names are shortened so template and clone suffix fit 63 bytes / 64 characters", () => {
  const long = "test_" + "x".repeat(80);
  const pg = serverTemplateName("postgresql", long, HASH);
  const my = serverTemplateName("mysql", long, HASH);
  assert.equal(Buffer.byteLength(serverCloneName(pg, 999)), 63);
  assert.equal(serverCloneName(my, 999).length, 64);
  assert.equal(parseServerName(serverCloneName(pg, 999))?.template, pg);
});

test("template names always start with test_, whatever TEST NAME says", () => {
  const policy = namePolicy();
  for (const testName of ["shop_test", "ci_test_shop", "Test_Shop"]) {
    const name = serverTemplateName("mysql", testName, HASH);
    assert.match(name, /^test_/i);
    assert.ok(looksLikeTest(serverCloneName(name, 12), "mysql", policy), name);
  }
});

test("only names of the engine's own patterns parse", () => {
  for (const name of [
    "test_shop",
    "test_shop_1",
    "shop_0123456789",
    "test_shop_0123456789_0",
    "test_shop_0123456789_1000",
    "test_shop_0123456789x",
    "test_shop_ABCDEF0123",
  ]) {
    assert.equal(parseServerName(name), null, name);
  }
  const file = sqliteTemplateName("/tmp/w", "default", HASH);
  assert.equal(file, "/tmp/w/test_default_0123456789.sqlite3");
  assert.equal(parseSqliteName("/tmp/w/test_default_0123456789_2.sqlite3")?.template, file);
  assert.equal(parseEngineName("sqlite", "/tmp/w/test_default.sqlite3"), null);
});

test("records round-trip; comments that are not ours decode to null", () => {
  const record: DatabaseRecord = {
    role: "clone",
    hash: HASH,
    complete: true,
    kept: false,
    owner: { pid: 1, host: "h", started: 5 },
    clean: false,
  };
  assert.deepEqual(decodeRecord(encodeRecord(record)), record);
  for (const foreign of [
    null,
    "",
    "a user's comment",
    'django-concurrent-test {"role":"db"}',
    "django-concurrent-test {not json",
    'django-concurrent-test {"role":"clone","hash":"x","owner":{"pid":"1"}}',
  ]) {
    assert.equal(decodeRecord(foreign), null, String(foreign));
  }
});

test("owner liveness: this process is alive, an exited one gone, another host not judged", () => {
  const me = currentOwner();
  assert.equal(ownerLiveness(me), "alive");
  const child = spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" });
  const dead = {
    pid: Number(child.stdout.trim()),
    host: os.hostname(),
    started: me.started,
  };
  assert.equal(ownerLiveness(dead), "gone");
  assert.equal(ownerLiveness({ ...me, host: "another-host.example" }), "elsewhere");
});

test(
  "a recycled pid does not keep an orphan alive: the start time must match",
  { skip: process.platform !== "linux" },
  () => {
    const started = processStartTime(process.pid);
    assert.ok(started !== null && Math.abs(started - (Date.now() - process.uptime() * 1000)) < 5_000);
    // pid 1 is alive, but it started long before this record says its owner did.
    assert.equal(ownerLiveness({ pid: 1, host: os.hostname(), started: Date.now() }), "gone");
  },
);

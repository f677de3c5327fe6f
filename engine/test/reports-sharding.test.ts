// --shard=i/N: every class in exactly one shard, the same plan whatever the discovery order,
// and shards within 10% of the ideal split where the classes allow it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../src/core/errors.ts";
import type { ClassKind, TestClassInfo } from "../src/protocol/messages.ts";
import { parseShard } from "../src/config/shard.ts";
import { idealShardSeconds, planShards, shardPlanFor } from "../src/scheduling/sharding.ts";
import { makeTimings } from "../src/scheduling/timings.ts";

/** A small deterministic generator (mulberry32), so the suites are the same on every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function suite(count: number, seed: number): { classes: TestClassInfo[]; seconds: Map<string, number> } {
  const rand = random(seed);
  const classes: TestClassInfo[] = [];
  const seconds = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const label = `app${i % 7}.tests.Class${i}`;
    const tests = 1 + Math.floor(rand() * 20);
    classes.push({
      index: i,
      label,
      kind: (["TestCase", "SimpleTestCase", "TransactionTestCase"] as ClassKind[])[i % 3]!,
      file: null,
      line: null,
      databases: ["default"],
      serializedRollback: false,
      tests: Array.from({ length: tests }, (_, t) => ({
        id: `${label}.test_${t}`,
        description: `test_${t}`,
      })),
    });
    // Uneven, like real suites: most classes short, a few long.
    seconds.set(label, rand() < 0.1 ? 2 + rand() * 6 : 0.05 + rand() * 1.5);
  }
  return { classes, seconds };
}

function shuffled<T>(items: T[], seed: number): T[] {
  const rand = random(seed);
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

test("parseShard accepts i/N and refuses anything else with one clear line", () => {
  assert.deepEqual(parseShard("2/4"), { index: 2, total: 4 });
  assert.deepEqual(parseShard(" 1 / 1 "), { index: 1, total: 1 });
  for (const bad of ["0/3", "4/3", "1/0", "a/b", "2", "1/2/3", "-1/2", ""]) {
    assert.throws(
      () => parseShard(bad),
      (e: unknown) => e instanceof ConfigError && /--shard must be i\/N/.test((e as Error).message),
      bad,
    );
  }
});

test("for N = 1..5 every class is in exactly one shard and shards are within 10% of the ideal", () => {
  for (const seed of [1, 2, 3]) {
    const { classes, seconds } = suite(120, seed);
    const estimate = (c: TestClassInfo): number => seconds.get(c.label)!;
    for (let n = 1; n <= 5; n++) {
      const plan = planShards(classes, n, estimate);
      const placed = plan.shards.flat().map((c) => c.index);
      assert.equal(placed.length, classes.length, `N=${n}: every class once`);
      assert.equal(new Set(placed).size, classes.length, `N=${n}: no class twice`);
      const ideal = idealShardSeconds(classes, n, estimate);
      const worst = Math.max(...plan.seconds);
      assert.ok(
        worst <= ideal * 1.1,
        `seed ${seed}, N=${n}: largest shard ${worst.toFixed(2)}s vs ideal ${ideal.toFixed(2)}s`,
      );
      for (const shard of plan.shards) {
        assert.deepEqual(
          shard.map((c) => c.index),
          [...shard.map((c) => c.index)].sort((a, b) => a - b),
          "a shard keeps discovery order",
        );
      }
    }
  }
});

test("a class longer than an even share gets a shard of its own; the ideal says so", () => {
  const { classes, seconds } = suite(10, 9);
  seconds.set(classes[0]!.label, 100);
  const estimate = (c: TestClassInfo): number => seconds.get(c.label)!;
  const plan = planShards(classes, 3, estimate);
  const big = plan.shards.find((s) => s.some((c) => c.index === 0))!;
  assert.equal(big.length, 1);
  assert.equal(Math.max(...plan.seconds), idealShardSeconds(classes, 3, estimate));
});

test("the plan does not depend on discovery order (--shuffle, --reverse, another machine)", () => {
  const { classes } = suite(80, 4);
  const timings = makeTimings("/nowhere", {
    [classes[3]!.label]: {
      seconds: 9,
      tests: classes[3]!.tests.length,
      runs: 1,
      updated: "",
    },
    [classes[7]!.label]: { seconds: 4, tests: 1, runs: 1, updated: "" },
  });
  const reference = shardPlanFor(classes, { index: 1, total: 4 }, timings);
  for (const seed of [11, 12, 13]) {
    const other = shardPlanFor(shuffled(classes, seed), { index: 1, total: 4 }, timings);
    assert.equal(other.fingerprint, reference.fingerprint);
    assert.deepEqual(
      other.shards.map((s) => s.map((c) => c.index).sort((a, b) => a - b)),
      reference.shards.map((s) => s.map((c) => c.index)),
    );
  }
  const changed = makeTimings("/nowhere", {
    [classes[3]!.label]: { seconds: 1, tests: 1, runs: 1, updated: "" },
  });
  assert.notEqual(
    shardPlanFor(classes, { index: 1, total: 4 }, changed).fingerprint,
    reference.fingerprint,
    "other timings, other plan",
  );
});

test("classes never measured are balanced by their test count", () => {
  const { classes } = suite(40, 5);
  const plan = shardPlanFor(classes, { index: 1, total: 2 }, makeTimings("/nowhere", {}));
  const tests = plan.shards.map((s) => s.reduce((n, c) => n + c.tests.length, 0));
  const total = tests[0]! + tests[1]!;
  assert.ok(Math.abs(tests[0]! - tests[1]!) <= total * 0.1, `tests per shard ${tests.join(" / ")}`);
});

test("more shards than classes leaves some shards empty, never a class in two", () => {
  const { classes } = suite(3, 6);
  const plan = planShards(classes, 5, () => 1);
  assert.equal(plan.shards.filter((s) => s.length === 0).length, 2);
  assert.equal(plan.shards.flat().length, 3);
});

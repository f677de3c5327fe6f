// CI sharding (--shard=i/N): split the discovered TestCase classes into N parts of about equal
// expected duration, from the stored timings (unknown classes estimated from their test count).
// Every machine of a CI matrix computes the same plan on its own, so the plan depends only on the
// classes (label and test ids) and the timings file, never on discovery order, --shuffle, host or
// time; a class is never split (setUpClass / setUpTestData run once per class).
import { createHash } from "node:crypto";
import { ConfigError } from "../core/errors.ts";
import type { TestClassInfo } from "../protocol/messages.ts";
import type { ShardSpec } from "../config/shard.ts";
import { estimateSeconds, loadTimings, type Timings } from "./timings.ts";

export interface ShardPlan {
  /** Per shard (0-based), the classes it runs, in discovery order. */
  shards: TestClassInfo[][];
  /** Per shard, the expected seconds (sum of its classes' estimates). */
  seconds: number[];
  /** A short fingerprint of the plan: equal on every machine that computed the same plan. */
  fingerprint: string;
}

/** What a sharded run records for its reports. */
export interface ShardInfo extends ShardSpec {
  plan: string;
  /** Indices of the classes this shard runs. */
  indices: number[];
  classes: number;
  tests: number;
  estimatedSeconds: number;
  /** Every shard's expected seconds, for the reports. */
  allSeconds: number[];
}

/** A class is never split, so a shard beyond the number of classes would have nothing to run. */
function checkShardCount(spec: ShardSpec, classes: number): void {
  if (spec.total <= Math.max(1, classes)) return;
  throw new ConfigError(
    `--shard ${spec.index}/${spec.total} splits the suite into more parts than its ${classes} test class${classes === 1 ? "" : "es"}`,
    `use at most ${classes > 1 ? `${classes} shards` : "1 shard"} for this selection of tests`,
  );
}

interface Item {
  cls: TestClassInfo;
  /** A stable identity: the label, then the first test id (failed imports share a label). */
  key: string;
  /** Expected milliseconds, whole numbers so that every machine adds up the same way. */
  weight: number;
}

function compareItems(a: Item, b: Item): number {
  return b.weight - a.weight || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/**
 * Longest-expected-first onto the least loaded shard, then pairwise moves and swaps while they
 * lower the largest shard. Deterministic: every tie is broken by shard number or class key.
 */
export function planShards(
  classes: readonly TestClassInfo[],
  total: number,
  estimate: (c: TestClassInfo) => number,
): ShardPlan {
  const items: Item[] = classes
    .map((cls) => ({
      cls,
      key: `${cls.label}\u0000${cls.tests[0]?.id ?? ""}`,
      weight: Math.max(1, Math.round(estimate(cls) * 1000)),
    }))
    .sort(compareItems);
  const bins: Item[][] = Array.from({ length: total }, () => []);
  const loads = new Array<number>(total).fill(0);
  for (const item of items) {
    let best = 0;
    for (let i = 1; i < total; i++) if (loads[i]! < loads[best]!) best = i;
    bins[best]!.push(item);
    loads[best]! += item.weight;
  }
  improve(bins, loads);
  for (const bin of bins) bin.sort(compareItems);
  const hash = createHash("sha256");
  hash.update(`shards:${total}\n`);
  bins.forEach((bin, i) => {
    for (const item of bin) hash.update(`${i}\t${item.key}\t${item.weight}\t${item.cls.tests.length}\n`);
  });
  return {
    shards: bins.map((bin) => bin.map((item) => item.cls).sort((a, b) => a.index - b.index)),
    seconds: loads.map((ms) => ms / 1000),
    fingerprint: hash.digest("hex").slice(0, 12),
  };
}

/** Local search: move one class, or swap two, between the largest shard and another. */
function improve(bins: Item[][], loads: number[]): void {
  for (let round = 0; round < 10_000; round++) {
    let top = 0;
    for (let i = 1; i < loads.length; i++) if (loads[i]! > loads[top]!) top = i;
    const topLoad = loads[top]!;
    let best: { gain: number; other: number; from: number; to: number } | undefined;
    for (let other = 0; other < loads.length; other++) {
      if (other === top) continue;
      const otherLoad = loads[other]!;
      bins[top]!.forEach((a, from) => {
        // Move a: the pair's new maximum must be lower than the current top.
        const moved = Math.max(topLoad - a.weight, otherLoad + a.weight);
        if (moved < topLoad && (!best || topLoad - moved > best.gain))
          best = { gain: topLoad - moved, other, from, to: -1 };
        bins[other]!.forEach((b, to) => {
          if (b.weight >= a.weight) return;
          const swapped = Math.max(topLoad - a.weight + b.weight, otherLoad + a.weight - b.weight);
          if (swapped < topLoad && (!best || topLoad - swapped > best.gain))
            best = { gain: topLoad - swapped, other, from, to };
        });
      });
    }
    if (!best) return;
    const a = bins[top]!.splice(best.from, 1)[0]!;
    loads[top]! -= a.weight;
    if (best.to >= 0) {
      const b = bins[best.other]!.splice(best.to, 1)[0]!;
      loads[best.other]! -= b.weight;
      bins[top]!.push(b);
      loads[top]! += b.weight;
    }
    bins[best.other]!.push(a);
    loads[best.other]! += a.weight;
  }
}

/** The lower bound no split can beat: an even share, or the largest class if that is longer. */
export function idealShardSeconds(
  classes: readonly TestClassInfo[],
  total: number,
  estimate: (c: TestClassInfo) => number,
): number {
  const weights = classes.map((c) => Math.max(1, Math.round(estimate(c) * 1000)) / 1000);
  const sum = weights.reduce((a, b) => a + b, 0);
  return Math.max(sum / total, ...weights, 0);
}

export function shardPlanFor(classes: readonly TestClassInfo[], spec: ShardSpec, timings: Timings): ShardPlan {
  return planShards(classes, spec.total, (c) => estimateSeconds(timings, c));
}

/** Where a sharded run records its shard for the reports (RunResults). */
export interface ShardRecord {
  shard?: ShardInfo | undefined;
}

/**
 * This run's part of the suite. Records the shard on `results` (for the reports) and, when
 * `write` is given, prints one line saying what the shard runs.
 */
export async function selectShard(
  classes: TestClassInfo[],
  spec: ShardSpec,
  projectDir: string,
  results: ShardRecord,
  write?: (text: string) => void,
): Promise<TestClassInfo[]> {
  checkShardCount(spec, classes.length);
  const timings = await loadTimings(projectDir, classes);
  const plan = shardPlanFor(classes, spec, timings);
  const mine = plan.shards[spec.index - 1]!;
  const tests = mine.reduce((n, c) => n + c.tests.length, 0);
  const estimated = plan.seconds[spec.index - 1]!;
  results.shard = {
    ...spec,
    plan: plan.fingerprint,
    indices: mine.map((c) => c.index),
    classes: mine.length,
    tests,
    estimatedSeconds: estimated,
    allSeconds: plan.seconds,
  };
  write?.(
    `Shard ${spec.index}/${spec.total}: ${mine.length} of ${classes.length} classes, ${tests} tests, ` +
      `about ${estimated.toFixed(1)}s expected (plan ${plan.fingerprint}).\n`,
  );
  return mine;
}

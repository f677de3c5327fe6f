// Stored per-class durations of earlier runs: what the scheduler sorts by (longest first), what
// the progress line's ETA and CI shard balancing are estimated from.
//
// The file is <project>/.django-concurrent-test/timings.json, small and safe to delete:
//   {
//     "version": 1,
//     "classes": {
//       "app.tests.SlowTests": { "seconds": 12.5, "tests": 40, "runs": 3, "updated": "<ISO date>" }
//     }
//   }
// `seconds` is the class's wall time on one worker (setUpClass and setUpTestData included; a class
// split across workers counts the sum of its parts), `tests` how many of its tests that covered.
// Each run merges its classes into the file; classes it did not run are kept as they were.
// A CI shard (--shard=i/N) leaves the file alone, so every shard of a run plans from the same
// input whatever order they run in: it writes the file with its own measurements merged in to
// .django-concurrent-test/shards/timings-<i>-of-<N>.json, and `merge-reports --timings` makes
// the shards' files the next run's timings.json.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ClassKind, TestClassInfo } from "../protocol/messages.ts";
import type { ShardSpec } from "../config/shard.ts";

export const TIMINGS_DIR = ".django-concurrent-test";
export const TIMINGS_FILE = "timings.json";
export const TIMINGS_VERSION = 1;

export interface ClassTiming {
  /** Wall seconds the class took on one worker. */
  seconds: number;
  /** How many tests that measurement covered (a run filtered with -k may cover fewer). */
  tests: number;
  /** Runs merged into this entry. */
  runs: number;
  /** When it was last measured (ISO 8601). */
  updated: string;
}

export interface Timings {
  /** Where the timings live (whether or not the file exists yet). */
  path: string;
  classes: Record<string, ClassTiming>;
  /** Seconds per test by class kind, for classes never measured (stored medians, else defaults). */
  perTest: Record<ClassKind, number>;
}

/**
 * Seconds per test when nothing is stored: rough figures measured on a 2-core machine
 * (TransactionTestCase flushes every table after each test; live servers start a thread).
 */
export const DEFAULT_SECONDS_PER_TEST: Readonly<Record<ClassKind, number>> = {
  SimpleTestCase: 0.005,
  unittest: 0.005,
  FailedTest: 0.001,
  TestCase: 0.02,
  TransactionTestCase: 0.2,
  LiveServerTestCase: 0.5,
};

/** A class's fixed cost (setUpClass, setUpTestData) when nothing is stored. */
const DEFAULT_CLASS_OVERHEAD: Readonly<Record<ClassKind, number>> = {
  SimpleTestCase: 0.001,
  unittest: 0.001,
  FailedTest: 0,
  TestCase: 0.01,
  TransactionTestCase: 0.01,
  LiveServerTestCase: 0.5,
};

/** When a measurement covers the same tests as the stored one, keep this much of the old value. */
const SMOOTHING = 0.3;

export function timingsPath(projectDir: string): string {
  return path.join(projectDir, TIMINGS_DIR, TIMINGS_FILE);
}

/** Where shard `index` of `total` writes what it measured, for merge-reports to collect. */
export function shardTimingsPath(projectDir: string, shard: ShardSpec): string {
  return path.join(projectDir, TIMINGS_DIR, "shards", `timings-${shard.index}-of-${shard.total}.json`);
}

function isClassTiming(value: unknown): value is ClassTiming {
  const v = value as Partial<ClassTiming> | null;
  return (
    typeof v === "object" &&
    v !== null &&
    typeof v.seconds === "number" &&
    Number.isFinite(v.seconds) &&
    v.seconds >= 0 &&
    typeof v.tests === "number" &&
    Number.isInteger(v.tests) &&
    v.tests >= 0
  );
}

/** The stored entries; a missing, unreadable or foreign file counts as empty (it is only a hint). */
async function readClasses(file: string): Promise<Record<string, ClassTiming>> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch {
    return {};
  }
  const data = raw as { version?: unknown; classes?: unknown } | null;
  if (
    typeof data !== "object" ||
    data === null ||
    data.version !== TIMINGS_VERSION ||
    typeof data.classes !== "object" ||
    data.classes === null
  ) {
    return {};
  }
  const classes: Record<string, ClassTiming> = {};
  for (const [label, entry] of Object.entries(data.classes)) {
    if (isClassTiming(entry)) {
      classes[label] = {
        seconds: entry.seconds,
        tests: entry.tests,
        runs: typeof entry.runs === "number" ? entry.runs : 1,
        updated: typeof entry.updated === "string" ? entry.updated : "",
      };
    }
  }
  return classes;
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Builds a Timings from entries; `kinds` (label → kind) lets unknown classes borrow medians. */
export function makeTimings(
  file: string,
  classes: Record<string, ClassTiming>,
  kinds: Record<string, ClassKind> = {},
): Timings {
  const perTest = { ...DEFAULT_SECONDS_PER_TEST };
  const samples = new Map<ClassKind, number[]>();
  for (const [label, entry] of Object.entries(classes)) {
    const kind = kinds[label];
    if (!kind || entry.tests === 0) continue;
    samples.set(kind, [...(samples.get(kind) ?? []), entry.seconds / entry.tests]);
  }
  for (const [kind, values] of samples) perTest[kind] = median(values) ?? perTest[kind];
  return { path: file, classes, perTest };
}

/** Loads the project's stored timings (empty when there are none). */
export async function loadTimings(projectDir: string, classes: readonly TestClassInfo[] = []): Promise<Timings> {
  const file = timingsPath(projectDir);
  const kinds = Object.fromEntries(classes.map((c) => [c.label, c.kind]));
  return makeTimings(file, await readClasses(file), kinds);
}

/**
 * Expected wall seconds of a class (or of the part of it `classInfo.tests` lists): the stored
 * duration, scaled when the test count differs, else an estimate from the test count.
 */
export function estimateSeconds(timings: Timings, classInfo: Pick<TestClassInfo, "label" | "kind" | "tests">): number {
  const count = classInfo.tests.length;
  const stored = timings.classes[classInfo.label];
  if (stored) {
    if (stored.tests === count || stored.tests === 0) return stored.seconds;
    return (stored.seconds * count) / stored.tests;
  }
  const kind = classInfo.kind;
  return DEFAULT_CLASS_OVERHEAD[kind] + count * timings.perTest[kind];
}

/** Whether any of the classes has a stored duration. */
export function hasStoredTimings(timings: Timings, classes: readonly Pick<TestClassInfo, "label">[]): boolean {
  return classes.some((c) => timings.classes[c.label] !== undefined);
}

/** Reasons the pool gives a class that ran out of time: its elapsed time is a lower bound. */
export function isTimeoutReason(reason: string | undefined): boolean {
  return reason !== undefined && reason.startsWith("timed out");
}

/** What a run measured (RunResults), as much of it as the timings read. */
export interface MeasuredRun {
  classes: ReadonlyMap<
    number,
    { info: TestClassInfo; startedAt: number; finishedAt?: number | undefined; interrupted?: string | undefined }
  >;
  shard?: ShardSpec | undefined;
}

/**
 * This run's measurements, by class label. Parts of a split class add up; classes cut short by a
 * crash or an interrupt are left out (their time says nothing); a timed-out class counts with
 * its elapsed time, so next run it starts early instead of holding up the end.
 */
export function measuredClasses(results: MeasuredRun): Record<string, { seconds: number; tests: number }> {
  const measured: Record<string, { seconds: number; tests: number; skip: boolean }> = {};
  for (const record of results.classes.values()) {
    if (record.finishedAt === undefined) continue;
    const label = record.info.label;
    const entry = (measured[label] ??= { seconds: 0, tests: 0, skip: false });
    if (record.interrupted && !isTimeoutReason(record.interrupted)) {
      entry.skip = true;
      continue;
    }
    entry.seconds += Math.max(0, record.finishedAt - record.startedAt) / 1000;
    entry.tests += record.info.tests.length;
  }
  return Object.fromEntries(
    Object.entries(measured)
      .filter(([, m]) => !m.skip && m.tests > 0)
      .map(([label, m]) => [label, { seconds: m.seconds, tests: m.tests }]),
  );
}

/** Merges new measurements into stored entries (pure; exported for tests). */
export function mergeTimings(
  stored: Record<string, ClassTiming>,
  measured: Record<string, { seconds: number; tests: number }>,
  now = new Date(),
): Record<string, ClassTiming> {
  const merged: Record<string, ClassTiming> = { ...stored };
  for (const [label, m] of Object.entries(measured)) {
    const old = stored[label];
    // Same tests: damp run-to-run noise. Different tests (-k, a label, new tests): take the new.
    const seconds = old && old.tests === m.tests ? SMOOTHING * old.seconds + (1 - SMOOTHING) * m.seconds : m.seconds;
    merged[label] = {
      seconds: Math.round(seconds * 1e4) / 1e4,
      tests: m.tests,
      runs: (old?.runs ?? 0) + 1,
      updated: now.toISOString(),
    };
  }
  return merged;
}

/**
 * Merges this run's class durations into the project's file (re-read just before writing, and
 * replaced atomically, so concurrent runs lose at most each other's latest numbers); a shard
 * writes the result to its own file instead.
 * Returns the file written, or undefined when there was nothing to store or it could not be written.
 */
export async function saveTimings(projectDir: string, results: MeasuredRun): Promise<string | undefined> {
  const measured = measuredClasses(results);
  if (Object.keys(measured).length === 0) return undefined;
  const input = timingsPath(projectDir);
  const file = results.shard ? shardTimingsPath(projectDir, results.shard) : input;
  const classes = mergeTimings(await readClasses(input), measured);
  const sorted = Object.fromEntries(Object.entries(classes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const text = JSON.stringify({ version: TIMINGS_VERSION, classes: sorted }, null, 1) + "\n";
  const temp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(temp, text);
    await rename(temp, file);
    return file;
  } catch {
    // A read-only checkout must not fail the run: timings are only a scheduling hint.
    await rm(temp, { force: true }).catch(() => undefined);
    return undefined;
  }
}

// One plain, JSON-serialisable picture of a finished run, built once from RunResults. The JUnit,
// benchmark and HTML reports read it, the HTML report embeds it, and merge-reports combines the
// pictures of several CI shards into one.
import os from "node:os";
import path from "node:path";
import type { Outcome } from "../protocol/messages.ts";
import type { ClassRecord, Phase, RunResults, TestRecord } from "../results/run-results.ts";
import type { CloneCounts, ReportContext } from "./reporter.ts";

export const REPORT_DATA_VERSION = 1;

export interface OutcomeData {
  outcome: Outcome;
  /** The id the outcome was reported for: the test's own id, or a subtest's. */
  test: string;
  description: string;
  subtest: boolean;
  traceback?: string;
  reason?: string;
}

export interface TestData {
  id: string;
  /** The test's name inside its class (method name, or e.g. "setUpClass"). */
  name: string;
  description: string;
  /** Seconds since the run started. */
  start: number;
  duration: number;
  outcomes: OutcomeData[];
  stdout?: string;
  stderr?: string;
}

export interface ClassData {
  index: number;
  label: string;
  kind: string;
  file: string | null;
  line: number | null;
  slot: number;
  /** Seconds since the run started; `end` is null when the class never finished. */
  start: number;
  end: number | null;
  interrupted?: string;
  tests: TestData[];
}

export interface ShardData {
  index: number;
  total: number;
  /** Fingerprint of the shard plan: equal on every shard of one CI run. */
  plan: string;
}

/** The run of one machine (one shard in CI). Times are seconds since that run started. */
export interface RunData {
  hostname: string;
  /** ISO time the run started. */
  startedAt: string;
  wallSeconds: number;
  workers: number;
  shard: ShardData | null;
  phases: Partial<Record<Phase, { start: number; end: number }>>;
  /** Per worker slot: seconds since the run started when it was ready for work. */
  workerReady: Record<string, number>;
  testsRun: number;
  counts: Record<Outcome, number>;
  clones: CloneCounts;
  classes: ClassData[];
}

export interface ReportData {
  version: typeof REPORT_DATA_VERSION;
  generatedAt: string;
  /** One entry per run; several after merge-reports. */
  runs: RunData[];
}

const seconds = (ms: number): number => Math.round(ms) / 1000;

/**
 * The test's name inside its class: its id without the class label; for a class-level error
 * ("setUpClass (app.tests.C)", unittest's _ErrorHolder) the fixture's name.
 */
export function testName(id: string, classLabel: string): string {
  if (id.startsWith(classLabel + ".")) return id.slice(classLabel.length + 1);
  const holder = /^(\w+) \((.+)\)$/.exec(id);
  if (holder && holder[2] === classLabel) return holder[1]!;
  return id;
}

/** A path inside the project as the project sees it (checkouts on CI machines differ). */
function projectRelative(file: string, projectDir: string): string {
  const relative = path.relative(projectDir, file);
  return relative.startsWith("..") || path.isAbsolute(relative) ? file : relative.split(path.sep).join("/");
}

function testData(record: TestRecord, classLabel: string): TestData {
  return {
    id: record.id,
    name: testName(record.id, classLabel),
    description: record.description,
    start: seconds(record.startedAt),
    duration: record.duration,
    outcomes: record.outcomes.map((e) => ({
      outcome: e.outcome,
      test: e.test,
      description: e.description,
      subtest: e.parent !== undefined,
      ...(e.traceback !== undefined ? { traceback: e.traceback } : {}),
      ...(e.reason !== undefined ? { reason: e.reason } : {}),
    })),
    ...(record.stdout ? { stdout: record.stdout } : {}),
    ...(record.stderr ? { stderr: record.stderr } : {}),
  };
}

export function buildRunData(ctx: ReportContext): RunData {
  const { results } = ctx;
  const phases: RunData["phases"] = {};
  for (const [name, p] of Object.entries(results.phases)) {
    if (p && p.end !== undefined) phases[name as Phase] = { start: seconds(p.start), end: seconds(p.end) };
  }
  // A class record is a class, a part of a split class, or a retry after a crash: each lists
  // the tests it ran. A test belongs to the last record that ran it; a class-level error
  // (setUpClass) to the record of its class.
  const records = [...results.classes.values()].sort(
    (a, b) => a.startedAt - b.startedAt || a.info.index - b.info.index,
  );
  const byRecord = new Map<ClassRecord, TestData[]>();
  const ranBy = new Map<string, ClassRecord>();
  for (const r of records) for (const t of r.info.tests) ranBy.set(t.id, r);
  const orphans: TestData[] = [];
  for (const record of results.tests.values()) {
    const label = results.classList[record.classIndex]?.label ?? "";
    const owner =
      ranBy.get(record.id) ??
      results.classes.get(record.classIndex) ??
      [...records].reverse().find((r) => r.info.label === label);
    const data = testData(record, owner?.info.label ?? label);
    if (!owner) orphans.push(data);
    else byRecord.set(owner, [...(byRecord.get(owner) ?? []), data]);
  }
  const classes: ClassData[] = records.map((c) => ({
    index: c.info.index,
    label: c.info.label,
    kind: c.info.kind,
    file: c.info.file ? projectRelative(c.info.file, ctx.hello.cwd) : null,
    line: c.info.line,
    slot: c.slot,
    start: seconds(c.startedAt),
    end: c.finishedAt !== undefined ? seconds(c.finishedAt) : null,
    ...(c.interrupted ? { interrupted: c.interrupted } : {}),
    tests: (byRecord.get(c) ?? []).sort((a, b) => a.start - b.start),
  }));
  // Never lose a test from the reports, even one no class record claims.
  for (const t of orphans) {
    const info = results.tests.get(t.id);
    const cls = info ? results.classList[info.classIndex] : undefined;
    classes.push({
      index: info?.classIndex ?? -1,
      label: cls?.label ?? t.id.split(".").slice(0, -1).join("."),
      kind: cls?.kind ?? "unittest",
      file: cls?.file ? projectRelative(cls.file, ctx.hello.cwd) : null,
      line: cls?.line ?? null,
      slot: info?.slot ?? 0,
      start: t.start,
      end: t.start + t.duration,
      tests: [t],
    });
  }
  return {
    hostname: os.hostname(),
    startedAt: new Date(results.startedWall).toISOString(),
    wallSeconds: seconds(results.now()),
    workers: ctx.workers,
    shard: results.shard
      ? {
          index: results.shard.index,
          total: results.shard.total,
          plan: results.shard.plan,
        }
      : null,
    phases,
    workerReady: Object.fromEntries([...results.workerReadyAt].map(([slot, t]) => [String(slot), seconds(t)])),
    testsRun: results.testsRun,
    counts: { ...results.counts },
    clones: { ...ctx.cloneStats },
    classes,
  };
}

export function buildReportData(ctx: ReportContext): ReportData {
  return {
    version: REPORT_DATA_VERSION,
    generatedAt: new Date().toISOString(),
    runs: [buildRunData(ctx)],
  };
}

/** Seconds a worker spent running the class (setUpClass through tearDownClass). */
export function busySeconds(c: ClassData): number {
  return c.end === null ? 0 : Math.max(0, c.end - c.start);
}

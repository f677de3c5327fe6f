// --benchmark: the summary the product description promises, with every number defined in
// docs/reports.md and computed from this run's own measurements:
//   [CONCURRENT] Running 42 tests with 8 workers
//   [CONCURRENT] Tests completed in 8.2s (79% faster than sequential, estimated)
//   [CONCURRENT] Worker utilization: 87%
//   [CONCURRENT] Database operations: 156 clones, 0 errors
// followed by where the time went and the slowest classes.
import type { CloneCounts, Reporter, ReportContext } from "./reporter.ts";
import { buildRunData, busySeconds, type RunData } from "./report-data.ts";
import { loadSequentialBaseline, selectionKey, type SequentialBaseline } from "./sequential-baseline.ts";

const PREFIX = "[CONCURRENT]";
const SLOWEST = 5;

export interface BenchmarkFigures {
  tests: number;
  workers: number;
  /** Engine start to the end of teardown. */
  wallSeconds: number;
  phases: {
    discovery: number;
    template: number;
    clones: number;
    workerStart: number;
    /** The test phase once the databases were ready (and the workers too). */
    tests: number;
    teardown: number;
  };
  /** Workers start before the templates and run database-free classes beside the setup. */
  beforeDatabases: { seconds: number; tests: number };
  /** Seconds workers spent inside classes, summed over classes. */
  busySeconds: number;
  /** busySeconds / (workers × the test phase, worker start included). */
  utilization: number | null;
  sequential: { seconds: number; measured: boolean } | null;
  /** 1 - wall / sequential (negative when slower). */
  saved: number | null;
  clones: CloneCounts;
}

function phaseSeconds(run: RunData, name: keyof RunData["phases"]): number {
  const p = run.phases[name];
  return p ? Math.max(0, p.end - p.start) : 0;
}

/** Seconds from the start of the test phase until the last worker was ready. */
export function workerStartSeconds(run: RunData): number {
  const tests = run.phases.tests;
  const ready = Object.values(run.workerReady);
  if (!tests || ready.length === 0) return 0;
  return Math.max(0, Math.max(...ready) - tests.start);
}

export function benchmarkFigures(run: RunData, baseline: SequentialBaseline | null): BenchmarkFigures {
  const busy = run.classes.reduce((sum, c) => sum + busySeconds(c), 0);
  const testPhase = phaseSeconds(run, "tests");
  const workerStart = Math.min(workerStartSeconds(run), testPhase);
  const testsStart = run.phases.tests?.start ?? 0;
  const databasesReady = run.phases.clones?.end ?? testsStart;
  const overlap = Math.min(testPhase, Math.max(0, databasesReady - testsStart));
  const phases = {
    discovery: phaseSeconds(run, "discovery"),
    template: phaseSeconds(run, "template"),
    clones: phaseSeconds(run, "clones"),
    workerStart,
    tests: testPhase - Math.max(workerStart, overlap),
    teardown: phaseSeconds(run, "teardown"),
  };
  const early = run.classes.flatMap((c) => c.tests).filter((t) => t.start < databasesReady);
  let sequential: BenchmarkFigures["sequential"] = null;
  if (baseline) {
    sequential = { seconds: baseline.seconds, measured: true };
  } else if (run.classes.length > 0) {
    // What one process would have needed: the setup every run pays once (discovery, one
    // template), then every class one after another, as long as each took here.
    sequential = {
      seconds: phases.discovery + phases.template + busy,
      measured: false,
    };
  }
  const capacity = run.workers * testPhase;
  return {
    tests: run.testsRun,
    workers: run.workers,
    wallSeconds: run.wallSeconds,
    phases,
    beforeDatabases: { seconds: overlap, tests: overlap > 0 ? early.length : 0 },
    busySeconds: busy,
    utilization: capacity > 0 ? Math.min(1, busy / capacity) : null,
    sequential,
    saved: sequential && sequential.seconds > 0 ? 1 - run.wallSeconds / sequential.seconds : null,
    clones: run.clones,
  };
}

const s1 = (s: number): string => `${s.toFixed(1)}s`;
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

export function benchmarkLines(run: RunData, figures: BenchmarkFigures): string[] {
  const lines: string[] = [];
  const add = (text: string): number => lines.push(`${PREFIX} ${text}`);
  add(`Running ${plural(figures.tests, "test")} with ${plural(figures.workers, "worker")}`);
  let comparison = "";
  if (figures.sequential && figures.saved !== null) {
    const pct = Math.round(Math.abs(figures.saved) * 100);
    const how = figures.sequential.measured ? "measured" : "estimated";
    comparison = ` (${pct}% ${figures.saved >= 0 ? "faster" : "slower"} than sequential, ${how})`;
  }
  add(`Tests completed in ${s1(figures.wallSeconds)}${comparison}`);
  add(`Worker utilization: ${figures.utilization === null ? "n/a" : `${Math.round(figures.utilization * 100)}%`}`);
  add(`Database operations: ${databaseOperations(figures.clones)}`);
  const p = figures.phases;
  add(
    `Breakdown: discovery ${s1(p.discovery)}, template ${s1(p.template)}, clones ${s1(p.clones)}, ` +
      `worker start ${s1(p.workerStart)}, tests ${s1(p.tests)}, teardown ${s1(p.teardown)}`,
  );
  if (figures.beforeDatabases.tests > 0) {
    add(
      `Beside the setup: ${plural(figures.beforeDatabases.tests, "test")} that use no database ran in the ` +
        `${s1(figures.beforeDatabases.seconds)} the template and clones took`,
    );
  }
  if (figures.sequential) {
    if (figures.sequential.measured) {
      add(
        `Sequential: ${s1(figures.sequential.seconds)} measured by an earlier --workers=1 --benchmark run of the same tests`,
      );
    } else {
      add(
        `Sequential: ${s1(figures.sequential.seconds)} estimated (discovery + template + ${s1(figures.busySeconds)} ` +
          `of classes back to back; measure it with --workers=1 --benchmark)`,
      );
    }
  }
  if (run.shard) add(`Shard ${run.shard.index}/${run.shard.total} (plan ${run.shard.plan})`);
  const slowest = [...run.classes].sort((a, b) => busySeconds(b) - busySeconds(a)).slice(0, SLOWEST);
  if (slowest.length > 0) {
    add(`Slowest classes:`);
    const width = Math.max(...slowest.map((c) => s1(busySeconds(c)).length));
    for (const c of slowest) {
      add(`  ${s1(busySeconds(c)).padStart(width)}  ${c.label} (${plural(c.tests.length, "test")}, worker ${c.slot})`);
    }
  }
  return lines;
}

export class BenchmarkReporter implements Reporter {
  async finish(ctx: ReportContext): Promise<void> {
    const run = buildRunData(ctx);
    const baseline = await loadSequentialBaseline(
      ctx.hello.cwd,
      selectionKey(ctx.results, ctx.hello.settings.databases),
    );
    const figures = benchmarkFigures(run, baseline);
    ctx.stdout(benchmarkLines(run, figures).join("\n") + "\n");
  }
}

/** "4 clones, 0 errors"; SQLite in-memory databases the workers load are named apart. */
function databaseOperations(stats: CloneCounts): string {
  const inMemory = stats.inMemory ?? 0;
  const loaded =
    inMemory > 0 ? `, ${inMemory} in-memory ${inMemory === 1 ? "copy" : "copies"} loaded by the workers` : "";
  return `${plural(stats.clones, "clone")}${loaded}, ${plural(stats.errors, "error")}`;
}

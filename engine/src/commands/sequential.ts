// A run that cannot be concurrent (fallback.ts says why) runs in the bridge's own process as the
// only worker, exactly as Django's runner would after build_suite: Django prints its usual
// output (the engine's console is off), --pdb stays interactive in the foreground, and the
// events stream into RunResults as a worker's do, so the JUnit, HTML and benchmark reports, the
// timings store and the event log come out as from a concurrent run.
import type { BridgeClient } from "../bridge/client.ts";
import type { RunConfig } from "../config/resolve.ts";
import { EXIT } from "../core/errors.ts";
import type { BridgeHello, RunnerOptions, SequentialEvent } from "../protocol/messages.ts";
import { reportError } from "./report-error.ts";
import { runTasks } from "./tasks.ts";
import { EventLog } from "../reporters/eventlog.ts";
import { reportersFor } from "../reporters/index.ts";
import type { ReportContext } from "../reporters/reporter.ts";
import { BASELINE_FILE, selectionKey, storeSequentialBaseline } from "../reporters/sequential-baseline.ts";
import { printDurations } from "../reporters/console.ts";
import { printTiming } from "../reporters/timing.ts";
import { RunResults } from "../results/run-results.ts";
import { selectShard } from "../scheduling/sharding.ts";
import { saveTimings } from "../scheduling/timings.ts";

/** The one worker's slot, as reports and the event log name it. */
export const SEQUENTIAL_SLOT = 1;

export interface SequentialInput {
  /** Options given to the run (the runner's, or the engine's command line). */
  given: Partial<RunnerOptions>;
  /** CLI mode: Django's test command is not there to print --timing's total. */
  cliMode: boolean;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** Options that only mean something with a worker pool: said once, never silently dropped. */
export function inapplicableOptions(given: Partial<RunnerOptions>): string[] {
  const named: [keyof RunnerOptions, string][] = [
    ["timeout", "--timeout"],
    ["startMethod", "--start-method"],
    ["rebuildTemplates", "--rebuild-templates"],
  ];
  return named
    .filter(([key]) => given[key] !== undefined && given[key] !== null && given[key] !== false)
    .map(([, flag]) => flag);
}

export async function runSequentially(
  bridge: BridgeClient,
  hello: BridgeHello,
  config: RunConfig,
  reason: string,
  input: SequentialInput,
): Promise<number> {
  input.stdout(`django-concurrent-test: running sequentially: ${reason}.\n`);
  const unused = inapplicableOptions(input.given);
  if (unused.length > 0)
    input.stdout(
      `django-concurrent-test: ${unused.join(", ")} ${unused.length === 1 ? "does" : "do"} not apply to a sequential run.\n`,
    );
  const results = new RunResults();
  const eventLog = config.eventLog ? new EventLog(config.eventLog, results) : undefined;
  // Ctrl-C is Django's to handle in the foreground process (stop after the running test, then
  // tear down); the engine waits for it and writes the reports of what ran.
  const waitForBridge = (): void => undefined;
  let exitCode: number | undefined;
  // Set by the suite's setup once the whole suite ran: only then is it a baseline.
  let ran: { exitCode: number } | undefined;
  await runTasks(
    [
      {
        title: "signals",
        setup: () => void process.on("SIGINT", waitForBridge).on("SIGTERM", waitForBridge),
        teardown: () => void process.off("SIGINT", waitForBridge).off("SIGTERM", waitForBridge),
      },
      { title: "event log", teardown: () => eventLog?.close() },
      { title: "reports", teardown: () => finish(hello, config, results, input, ran !== undefined) },
      { title: "bridge", teardown: () => bridge.close().catch(() => undefined) },
      {
        title: "suite",
        setup: async () => void (ran = { exitCode: await runSuite(bridge, hello, config, results, input, eventLog) }),
      },
    ],
    { onError: (error) => void (exitCode ??= reportError(error, input.stderr)) },
  );
  return exitCode ?? ran?.exitCode ?? EXIT.testsFailed;
}

/** After the run: what Django's command does not print here, then the reports (and baseline). */
async function finish(
  hello: BridgeHello,
  config: RunConfig,
  results: RunResults,
  input: SequentialInput,
  completed: boolean,
): Promise<void> {
  if (config.django.timing && input.cliMode) printTiming(results, input.stderr, true);
  const durations = config.django.durations;
  if (durations !== null && !djangoPrintsDurations(hello, input.cliMode))
    printDurations(results, durations, config.django.verbosity, input.stderr);
  const wallSeconds = results.now() / 1000;
  const ctx: ReportContext = {
    results,
    config,
    hello,
    workers: 1,
    cloneStats: { clones: 0, errors: 0 },
    stdout: input.stdout,
    stderr: input.stderr,
  };
  for (const reporter of reportersFor(config)) await reporter.finish(ctx);
  if (config.benchmark && completed) await storeBaseline(hello, results, wallSeconds, input.stdout);
}

async function runSuite(
  bridge: BridgeClient,
  hello: BridgeHello,
  config: RunConfig,
  results: RunResults,
  input: SequentialInput,
  eventLog: EventLog | undefined,
): Promise<number> {
  results.phaseStart("discovery");
  const discovered = await bridge.discover(config.labels, config.django);
  results.phaseEnd("discovery");
  results.classList = discovered.classes;
  let classes = discovered.classes;
  if (config.shard) {
    const write = config.django.verbosity >= 1 ? input.stderr : undefined;
    classes = await selectShard(classes, config.shard, hello.cwd, results, write);
  }
  eventLog?.write({ type: "discovered", classes: classes.length, databases: discovered.databases });
  const selected = config.shard ? classes.map((c) => c.index) : null;
  const done = await bridge.runSequential(selected, SEQUENTIAL_SLOT, (event) => feed(results, event, hello.pid));
  await saveTimings(hello.cwd, results);
  eventLog?.write({ type: "summary", testsRun: results.testsRun, counts: results.counts, workers: 1 });
  return done.failures > 0 ? EXIT.testsFailed : EXIT.ok;
}

/** unittest prints --durations itself from Python 3.12 on, when the runner was given them. */
function djangoPrintsDurations(hello: BridgeHello, cliMode: boolean): boolean {
  const [major, minor] = hello.pythonVersion;
  return !cliMode && (major > 3 || (major === 3 && minor >= 12));
}

/** One streamed event into the results, as the pool feeds a worker's. */
function feed(results: RunResults, event: SequentialEvent, pid: number): void {
  const slot = SEQUENTIAL_SLOT;
  switch (event.type) {
    case "phase":
      if (event.edge === "start") results.phaseStart(event.phase);
      else results.phaseEnd(event.phase);
      // The one worker is ready when the tests start: no worker start to wait for.
      if (event.phase === "tests" && event.edge === "start") results.emit("workerReady", slot, pid);
      break;
    case "classStart": {
      const info = results.classList[event.classIndex];
      if (info) results.classStarted(info, slot);
      break;
    }
    case "classDone":
      results.classFinished(event.classIndex);
      break;
    case "testStart":
      results.testStarted(event.test, event.classIndex, slot);
      break;
    case "testStop":
      results.testStopped(event, slot);
      break;
    case "outcome":
      results.outcome(event, slot);
      break;
  }
}

/** A `--benchmark` sequential run is the measured baseline later concurrent runs compare with. */
async function storeBaseline(
  hello: BridgeHello,
  results: RunResults,
  seconds: number,
  write: (text: string) => void,
): Promise<void> {
  // Only a whole run measures the selection (not one cut short by --failfast or Ctrl-C).
  const mine = results.shard ? new Set(results.shard.indices) : null;
  const selected = results.classList.filter((c) => !mine || mine.has(c.index));
  if (results.testsRun === 0 || results.testsRun !== selected.reduce((n, c) => n + c.tests.length, 0)) return;
  const stored = await storeSequentialBaseline(hello.cwd, selectionKey(results, hello.settings.databases), {
    seconds: Math.round(seconds * 1000) / 1000,
    tests: results.testsRun,
    measured: new Date().toISOString().replace(/\.\d+Z$/, "+00:00"),
  });
  if (stored)
    write(
      `[CONCURRENT] Sequential run: ${seconds.toFixed(1)}s for ${results.testsRun} tests, stored in ` +
        `${BASELINE_FILE} as the baseline for --benchmark\n`,
    );
}

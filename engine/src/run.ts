// One run, stage by stage: config → safety gate → discovery → templates → clones → workers →
// reports → teardown. Each stage lives in its own module; this file only wires them.
// The workers start right after discovery, not after the clones: they run the classes that need
// no database while the templates and clones are made, and take the rest once attached.
import { rmSync } from "node:fs";
import { BridgeClient } from "./bridge/client.ts";
import { CloneSet } from "./clones.ts";
import { resolveConfig, type RunConfig } from "./config/resolve.ts";
import { EXIT } from "./errors.ts";
import { checkPytestHandBack, sequentialReason } from "./fallback.ts";
import { reportError as report } from "./report-error.ts";
import { runSequentially } from "./sequential.ts";
import type { BridgeHello, RunnerOptions } from "./protocol/messages.ts";
import { ConsoleReporter } from "./reporters/console.ts";
import { HeldOutput } from "./reporters/held-output.ts";
import { isPytestRun, relayToPytest } from "./pytest/relay.ts";
import { EventLog } from "./reporters/eventlog.ts";
import { reportersFor, type ReportContext } from "./reporters/index.ts";
import { printTiming } from "./reporters/timing.ts";
import { RunResults } from "./results.ts";
import { runSafetyGate } from "./safety/gate.ts";
import { selectShard } from "./sharding.ts";
import { checkPrivileges } from "./safety/privileges.ts";
import { planWork, RecordIndexes, WorkQueue } from "./scheduler.ts";
import { loadTimings, saveTimings } from "./timings.ts";
import { ProgressReporter, type Terminal } from "./reporters/progress.ts";
import { formatIncidents } from "./workers/incidents.ts";
import { BackendRegistry, backendOptions } from "./db/index.ts";
import { buildTemplates, workDirFor, type TemplateSet } from "./templates.ts";
import { WorkerPool } from "./workers/pool.ts";

export interface RunInput {
  /** Runner mode: the adapter's process is the bridge, reachable on this fd. */
  bridgeFd?: number;
  /** CLI mode: the Python to spawn the bridge with, and the options given on our command line. */
  python?: string;
  cli?: Partial<RunnerOptions>;
  labels?: string[];
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stderr is a terminal (the live progress line), and its width. */
  terminal?: Terminal;
}

export interface RunOutcome {
  exitCode: number;
}

export async function run(input: RunInput): Promise<RunOutcome> {
  const bridge =
    input.bridgeFd !== undefined
      ? BridgeClient.fromFd(input.bridgeFd)
      : BridgeClient.spawn(input.python ?? "python3", input.env);
  let hello: BridgeHello;
  let config: RunConfig;
  try {
    hello = await bridge.hello();
    const given = { ...(hello.runnerOptions ?? {}), ...stripUndefined(input.cli ?? {}) };
    config = resolveConfig({
      cli: given,
      labels: input.labels ?? hello.labels ?? [],
      env: input.env,
      settingsConfig: hello.settings.concurrentTestConfig,
    });
    const policy = runSafetyGate(config, hello.settings, input.env);
    // Decided after the gate only: a refusal is never a sequential run.
    const reason = sequentialReason(config, hello.settings, isPytestRun(hello));
    if (reason && isPytestRun(hello)) {
      checkPytestHandBack(config, reason);
      bridge.fallback(reason);
      await bridge.close();
      return { exitCode: EXIT.handBack };
    }
    if (reason) {
      const cliMode = input.bridgeFd === undefined;
      return { exitCode: await runSequentially(bridge, hello, config, reason, { ...input, given, cliMode }) };
    }
    // Connects (to permitted hosts only), so after the gate; only concurrent runs clone.
    await checkPrivileges(hello.settings, policy, config.workers);
    return await runConcurrently(bridge, hello, config, policy, input);
  } catch (error) {
    const exitCode = report(error, input.stderr);
    await bridge.close().catch(() => undefined);
    return { exitCode };
  }
}

async function runConcurrently(
  bridge: BridgeClient,
  hello: BridgeHello,
  config: RunConfig,
  policy: ReturnType<typeof runSafetyGate>,
  input: RunInput,
): Promise<RunOutcome> {
  const results = new RunResults();
  const eventLog = config.eventLog ? new EventLog(config.eventLog, results) : undefined;
  const verbosity = config.django.verbosity;
  // pytest --concurrent: the main pytest process prints progress and results, pytest's way.
  const pytestRun = isPytestRun(hello);
  const progress = new ProgressReporter({
    results,
    verbosity,
    write: input.stderr,
    terminal: input.terminal,
    mode: pytestRun ? "off" : config.progress,
    intervalSeconds: config.progressInterval,
  });
  const held = new HeldOutput(progress.write);
  const console = pytestRun
    ? undefined
    : new ConsoleReporter(results, {
        verbosity,
        durations: config.django.durations,
        write: held.write,
        pythonVersion: hello.pythonVersion,
      });
  let clones: CloneSet | undefined;
  let templates: TemplateSet | undefined;
  const registry = new BackendRegistry();
  let pool: WorkerPool | undefined;
  let interrupted: NodeJS.Signals | undefined;
  let templatesBuilt = false;
  let databasesAttached = false;
  let workDir: string | undefined;
  let workers = 0;
  const reporters = reportersFor(config);
  let interruptedAt = 0;
  const onSignal = (signal: NodeJS.Signals, cause: string = signal): void => {
    if (interrupted) {
      // A terminal signals the whole process group and the runner forwards what it gets, so one
      // Ctrl-C can arrive twice at once; a second press comes later.
      if (performance.now() - interruptedAt < 500) return;
      progress.stop();
      pool?.interrupt();
      input.stderr("\nForced exit: cleaning up was cut short; clone and template databases may be left behind.\n");
      process.exit(signal === "SIGINT" ? EXIT.sigint : EXIT.sigterm);
    }
    interrupted = signal;
    interruptedAt = performance.now();
    progress.stop();
    input.stderr(`\nInterrupted (${cause}): stopping workers and dropping clones; press Ctrl-C again to force.\n`);
    pool?.interrupt();
  };
  const onSignalEvent = (signal: NodeJS.Signals): void => onSignal(signal);
  process.on("SIGINT", onSignalEvent);
  process.on("SIGTERM", onSignalEvent);
  // The Python side (the runner's process, or the spawned bridge) died: nobody is left to tear
  // down with, so stop the workers and drop what the engine made instead of waiting forever.
  let tearingDown = false;
  const onBridgeGone = (): void => {
    if (tearingDown) return;
    input.stderr("django-concurrent-test: the Python process driving the run went away; stopping.\n");
    pool?.interrupt();
  };
  bridge.channel.on("close", onBridgeGone);
  try {
    results.phaseStart("discovery");
    const discovered = await bridge.discover(config.labels, config.django);
    results.phaseEnd("discovery");
    results.classList = discovered.classes;
    // --shard=i/N: from here on the run sees only its part (indices stay those of discovery).
    if (config.shard)
      discovered.classes = await selectShard(
        discovered.classes,
        config.shard,
        hello.cwd,
        results,
        verbosity >= 1 ? input.stderr : undefined,
      );
    eventLog?.write({ type: "discovered", classes: discovered.classes.length, databases: discovered.databases });
    // Longest expected first from stored timings, unless an order was asked for.
    const timings = await loadTimings(hello.cwd, discovered.classes);
    const indexes = new RecordIndexes(results.classList);
    const askedOrder = config.order === "discovery" || config.django.reverse || config.django.shuffle !== false;
    const plan = planWork(
      discovered.classes,
      timings,
      { workers: config.workers, order: askedOrder ? "discovery" : "expected" },
      indexes,
    );
    workers = Math.min(config.workers, plan.length);
    const queue = new WorkQueue(plan, indexes);
    if (pytestRun) relayToPytest(bridge, results, queue);
    eventLog?.write({
      type: "plan",
      order: askedOrder ? "discovery" : "expected",
      items: plan.map((i) => ({ label: i.record.label, part: i.part ?? null, expected: i.expected })),
    });
    pool = new WorkerPool({
      slots: Array.from({ length: workers }, (_, i) => i + 1),
      startMethod: config.startMethod,
      bridge,
      python: hello.python,
      env: { ...input.env, DJANGO_CONCURRENT_TEST_SYS_PATH: JSON.stringify(hello.sysPath) },
      configure: {
        options: {
          buffer: config.django.buffer,
          failfast: config.django.failfast,
          debugSql: config.django.debugSql,
          fastFlush: config.fastFlush,
        },
        serializedAliases: discovered.serializedAliases,
        discover: { labels: config.labels, options: config.django },
      },
      queue,
      results,
      failfast: config.django.failfast,
      timeout: config.timeout,
      crashRetries: config.crashRetries,
      timings,
      refreshSlot: (slot) => clones!.recreate(slot),
      onKeyboardInterrupt: (test) => onSignal("SIGINT", `KeyboardInterrupt raised by ${test}`),
      onEvent: (event) => eventLog?.write(event),
    });
    // Workers start now and run database-free classes while the databases are made. Not under
    // pytest (its workers' fixtures expect the databases) nor when an order was asked for.
    const startEarly = !pytestRun && !askedOrder;
    if (startEarly) {
      results.phaseStart("tests"); // "Ran N tests in Xs" still counts from the databases (results.ts)
      await pool.start();
    }

    results.phaseStart("template");
    workDir = workDirFor(hello.cwd, hello.settings.settingsModule, config.django.keepdb);
    templatesBuilt = true; // the bridge may have begun Django's setup: it must tear down
    templates = await buildTemplates({
      bridge,
      settings: hello.settings,
      usedAliases: discovered.databases,
      keepdb: config.django.keepdb,
      rebuild: config.rebuildTemplates,
      workDir,
      policy,
      registry,
      backendOptions: backendOptions(config.settings),
      concurrency: workers,
      verbosity,
      log: input.stderr,
    });
    results.phaseEnd("template");
    eventLog?.write({ type: "templates", templates: templates.reports });
    eventLog?.write({ type: "dropped", when: "setup", databases: templates.dropped.splice(0) });
    if (interrupted) throw new InterruptedRun();

    results.phaseStart("clones");
    const slots = Array.from({ length: workers }, (_, i) => i + 1);
    if (verbosity >= 1) {
      for (const t of templates.templates)
        input.stderr(
          `Cloning test database for alias '${t.alias}' (${workers} worker${workers === 1 ? "" : "s"})...\n`,
        );
    }
    clones = new CloneSet(templates, config.django.keepdb);
    const slotDatabases = await clones.create(slots);
    results.phaseEnd("clones");
    eventLog?.write({ type: "clones", slots: slotDatabases });
    if (interrupted) throw new InterruptedRun();

    pool.attachDatabases(slotDatabases, templates.serialized);
    databasesAttached = true;
    if (!startEarly) results.phaseStart("tests");
    held.release();
    const running = pool;
    progress.start({
      total: plan.reduce((sum, item) => sum + item.record.tests.length, 0),
      current: () => running.current(),
      estimateRemaining: () => running.estimateRemaining(),
    });
    try {
      await pool.run();
    } finally {
      progress.stop();
    }
    results.phaseEnd("tests");
    await saveTimings(hello.cwd, results);
    console?.finish(results.testSeconds);
    input.stderr(formatIncidents(pool.incidents));
    if (interrupted) {
      const { running: cut, notStarted } = pool.cutShort;
      input.stderr(
        `Interrupted: ${cut} class${cut === 1 ? " was" : "es were"} cut short (their running tests have no result); ${notStarted} not started.\n`,
      );
    }
    if (discovered.shuffleSeed !== null && verbosity >= 1) {
      input.stdout(
        `Used shuffle seed: ${discovered.shuffleSeed}${config.django.shuffle === null ? " (generated)" : " (given)"}\n`,
      );
    }
    eventLog?.write({ type: "summary", testsRun: results.testsRun, counts: results.counts, workers });
    if (interrupted) return { exitCode: interrupted === "SIGINT" ? EXIT.sigint : EXIT.sigterm };
    if (bridge.channel.closed) return { exitCode: EXIT.testsFailed };
    return { exitCode: results.wasSuccessful ? EXIT.ok : EXIT.testsFailed };
  } catch (error) {
    if (error instanceof InterruptedRun) return { exitCode: interrupted === "SIGTERM" ? EXIT.sigterm : EXIT.sigint };
    return { exitCode: report(error, input.stderr) };
  } finally {
    tearingDown = true;
    results.phaseStart("teardown");
    // Workers that never got their databases (the setup failed) are not waited for.
    await pool?.stop(databasesAttached ? undefined : 0).catch(() => undefined);
    // pytest: session and module fixtures may commit outside any test (a django_db_setup
    // override loading data), so no clone counts as clean.
    await clones?.finish(pytestRun ? () => true : dirtySlots(results));
    if (templatesBuilt || !bridge.channel.closed) {
      await bridge.teardown(config.django.keepdb).catch((e: unknown) => report(e, input.stderr));
    }
    await templates?.finish(config.django.keepdb);
    if (templates) eventLog?.write({ type: "dropped", when: "teardown", databases: templates.dropped });
    await registry.close();
    if (workDir && !config.django.keepdb) rmSync(workDir, { recursive: true, force: true });
    results.phaseEnd("teardown");
    await bridge.close().catch(() => undefined);
    if (config.django.timing) printTiming(results, input.stderr, input.bridgeFd === undefined);
    const ctx: ReportContext = {
      results,
      config,
      hello,
      workers,
      cloneStats: clones?.stats ?? { clones: 0, errors: 0 },
      stdout: input.stdout,
      stderr: input.stderr,
    };
    for (const reporter of reporters) await reporter.finish(ctx);
    await eventLog?.close();
    process.off("SIGINT", onSignalEvent);
    process.off("SIGTERM", onSignalEvent);
  }
}

class InterruptedRun extends Error {}

/** Slots whose clones something committed to: only rolled-back TestCase classes leave them clean. */
function dirtySlots(results: RunResults): (slot: number) => boolean {
  const records = [...results.classes.values()];
  if (records.some((r) => r.interrupted)) return () => true;
  const dirty = new Set(
    records.filter((r) => !["TestCase", "SimpleTestCase", "FailedTest"].includes(r.info.kind)).map((r) => r.slot),
  );
  return (slot) => dirty.has(slot);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

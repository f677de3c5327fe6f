// A concurrent run as tasks (tasks.ts): discovery → workers → templates → clones → tests, each
// stage's teardown undoing what its setup made, last first, then the bridge and the reports.
// The workers start right after discovery, not after the clones: they run the classes that need
// no database while the templates and clones are made, and take the rest once attached.
import { rmSync } from "node:fs";
import path from "node:path";
import type { BridgeClient } from "../bridge/client.ts";
import type { RunConfig } from "../config/resolve.ts";
import { EXIT } from "../core/errors.ts";
import { CloneSet, type SlotDatabases } from "../databases/clones.ts";
import { BackendRegistry, backendOptions } from "../databases/index.ts";
import { snapshotsDir } from "../databases/snapshots.ts";
import { buildTemplates, type TemplateSet } from "../databases/templates.ts";
import { workDirFor } from "../databases/work-dirs.ts";
import type { BridgeHello, Discovered } from "../protocol/messages.ts";
import { ConsoleReporter } from "../reporters/console.ts";
import { EventLog } from "../reporters/eventlog.ts";
import { HeldOutput } from "../reporters/held-output.ts";
import type { OutputStream } from "../workers/early-output.ts";
import { reportersFor } from "../reporters/index.ts";
import { ProgressReporter, type Terminal } from "../reporters/progress.ts";
import { isPytestRun, relayToPytest } from "../reporters/pytest-relay.ts";
import type { ReportContext } from "../reporters/reporter.ts";
import { printTiming } from "../reporters/timing.ts";
import { RunResults } from "../results/run-results.ts";
import type { NamePolicy } from "../safety/names.ts";
import { keepsDjangosOrder, planWork, RecordIndexes, WorkQueue, type WorkItem } from "../scheduling/queue.ts";
import { selectShard } from "../scheduling/sharding.ts";
import { loadTimings, saveTimings, TIMINGS_DIR, type Timings } from "../scheduling/timings.ts";
import { formatIncidents } from "../workers/incidents.ts";
import { WorkerPool } from "../workers/pool.ts";
import { Interrupts } from "./interrupts.ts";
import { reportError } from "./report-error.ts";
import { runTasks, type Task } from "./tasks.ts";

/** What the run is given besides the bridge, its hello and the configuration. */
export interface ConcurrentInput {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stderr is a terminal (the live progress line), and its width. */
  terminal?: Terminal | undefined;
  /** Started from our own command line, not by manage.py test (--timing prints Django's lines). */
  cliMode: boolean;
}

/** What discovery and planning decided: the rest of the run reads it. */
interface Plan {
  discovered: Discovered;
  timings: Timings;
  items: WorkItem[];
  queue: WorkQueue;
  /** An order was asked for (--reverse, --shuffle, DJANGO_CONCURRENT_TEST_ORDER=discovery). */
  askedOrder: boolean;
}

export class ConcurrentRun {
  private readonly results = new RunResults();
  private readonly eventLog: EventLog | undefined;
  private readonly progress: ProgressReporter;
  private readonly held: HeldOutput;
  /** What workers lost before attach had held: written out in the same place as `held`. */
  private readonly lostOutput: Record<OutputStream, HeldOutput>;
  private readonly console: ConsoleReporter | undefined;
  private readonly registry = new BackendRegistry();
  private readonly interrupts: Interrupts;
  /** pytest --concurrent: the main pytest process prints progress and results, pytest's way. */
  private readonly pytestRun: boolean;
  // Made by the setups, in this order; a teardown sees what its own setup got to.
  private plan?: Plan;
  private workers = 0;
  private pool?: WorkerPool;
  private workersStopped?: Promise<void>;
  private workDir?: string;
  private templates?: TemplateSet;
  private clones?: CloneSet;
  private slotDatabases?: SlotDatabases[];
  /** The exit status the tests gave, and the first error's, which wins. */
  private testsExitCode?: number;
  private errorExitCode?: number;

  constructor(
    private readonly bridge: BridgeClient,
    private readonly hello: BridgeHello,
    private readonly config: RunConfig,
    private readonly policy: NamePolicy,
    private readonly input: ConcurrentInput,
  ) {
    const verbosity = config.django.verbosity;
    this.pytestRun = isPytestRun(hello);
    this.eventLog = config.eventLog ? new EventLog(config.eventLog, this.results) : undefined;
    this.progress = new ProgressReporter({
      results: this.results,
      verbosity,
      write: input.stderr,
      terminal: input.terminal,
      mode: this.pytestRun ? "off" : config.progress,
      intervalSeconds: config.progressInterval,
    });
    this.held = new HeldOutput(this.progress.write);
    this.lostOutput = { stdout: new HeldOutput(input.stdout), stderr: new HeldOutput(this.progress.write) };
    this.console = this.pytestRun
      ? undefined
      : new ConsoleReporter(this.results, {
          verbosity,
          durations: config.django.durations,
          write: this.held.write,
          pythonVersion: hello.pythonVersion,
        });
    this.interrupts = new Interrupts({
      stop: (cause) => {
        this.progress.stop();
        input.stderr(`\nInterrupted (${cause}): stopping workers and dropping clones; press Ctrl-C again to force.\n`);
        this.pool?.interrupt();
      },
      forced: () => {
        this.progress.stop();
        this.pool?.interrupt();
        input.stderr("\nForced exit: cleaning up was cut short; clone and template databases may be left behind.\n");
      },
    });
  }

  async run(): Promise<number> {
    await runTasks(this.tasks(), {
      signal: this.interrupts.abortSignal,
      onTeardown: () => {
        this.bridge.channel.off("close", this.onBridgeGone);
        this.results.phaseStart("teardown");
      },
      onError: (error) => {
        const code = reportError(error, this.input.stderr);
        this.errorExitCode ??= code;
      },
    });
    return this.errorExitCode ?? this.testsExitCode ?? this.interrupts.exitCode;
  }

  private tasks(): Task[] {
    return [
      { title: "signals", setup: () => this.watch(), teardown: () => this.interrupts.remove() },
      { title: "reports", teardown: () => this.writeReports() },
      { title: "bridge", teardown: () => this.closeBridge() },
      { title: "discovery", setup: () => this.discover() },
      { title: "workers", setup: () => this.startWorkers(), teardown: () => this.stopWorkers(0) },
      { title: "templates", setup: () => this.buildTemplates(), teardown: () => this.dropTemplates() },
      { title: "clones", setup: () => this.makeClones(), teardown: () => this.dropClones() },
      { title: "tests", setup: () => this.runTests(), teardown: () => this.stopWorkers() },
    ];
  }

  /** The Python side (the runner's process, or the spawned bridge) died: nobody is left to tear
   * down with, so stop the workers and drop what the engine made instead of waiting forever. */
  private readonly onBridgeGone = (): void => {
    this.input.stderr("django-concurrent-test: the Python process driving the run went away; stopping.\n");
    this.pool?.interrupt();
  };

  private watch(): void {
    this.interrupts.install();
    this.bridge.channel.on("close", this.onBridgeGone);
  }

  private async discover(): Promise<void> {
    const { config, results, hello } = this;
    results.phaseStart("discovery");
    const discovered = await this.bridge.discover(config.labels, config.django);
    results.phaseEnd("discovery");
    results.classList = discovered.classes;
    // --shard=i/N: from here on the run sees only its part (indices stay those of discovery).
    if (config.shard) {
      const write = config.django.verbosity >= 1 ? this.input.stderr : undefined;
      discovered.classes = await selectShard(discovered.classes, config.shard, hello.cwd, results, write);
    }
    this.eventLog?.write({ type: "discovered", classes: discovered.classes.length, databases: discovered.databases });
    // Longest expected first from stored timings, unless an order was asked for or the
    // databases' counters need Django's order.
    const timings = await loadTimings(hello.cwd, discovered.classes);
    const indexes = new RecordIndexes(results.classList);
    const askedOrder = config.order === "discovery" || config.django.reverse || config.django.shuffle !== false;
    const vendorOf = (alias: string): string | undefined => hello.settings.databases[alias]?.vendor;
    const order = askedOrder || keepsDjangosOrder(discovered.databases, vendorOf) ? "discovery" : "expected";
    const items = planWork(discovered.classes, timings, { workers: config.workers, order }, indexes);
    this.workers = Math.min(config.workers, items.length);
    const queue = new WorkQueue(items, indexes);
    if (this.pytestRun) relayToPytest(this.bridge, results, queue);
    this.eventLog?.write({
      type: "plan",
      order,
      items: items.map((i) => ({ label: i.record.label, part: i.part ?? null, expected: i.expected })),
    });
    this.plan = { discovered, timings, items, queue, askedOrder };
  }

  /** Not under pytest (its workers' fixtures expect the databases) nor when an order was asked for. */
  private get startEarly(): boolean {
    return !this.pytestRun && !this.plan!.askedOrder;
  }

  private async startWorkers(): Promise<void> {
    const { config, hello, plan } = this;
    this.pool = new WorkerPool({
      slots: this.slots(),
      startMethod: config.startMethod,
      bridge: this.bridge,
      python: hello.python,
      env: { ...this.input.env, DJANGO_CONCURRENT_TEST_SYS_PATH: JSON.stringify(hello.sysPath) },
      configure: {
        options: {
          buffer: config.django.buffer,
          failfast: config.django.failfast,
          debugSql: config.django.debugSql,
          fastFlush: config.fastFlush,
        },
        serializedAliases: plan!.discovered.serializedAliases,
        discover: { labels: config.labels, options: config.django },
      },
      queue: plan!.queue,
      results: this.results,
      failfast: config.django.failfast,
      timeout: config.timeout,
      crashRetries: config.crashRetries,
      timings: plan!.timings,
      refreshSlot: (slot) => this.clones!.recreate(slot),
      onKeyboardInterrupt: (test) => this.interrupts.interrupt("SIGINT", `KeyboardInterrupt raised by ${test}`),
      onEvent: (event) => this.eventLog?.write(event),
      onEarlyOutput: (stream, text) => this.lostOutput[stream].write(text),
    });
    // Workers start now and run database-free classes while the databases are made.
    if (this.startEarly) {
      this.results.phaseStart("tests"); // "Ran N tests in Xs" still counts from the databases (run-results.ts)
      await this.pool.start();
    }
  }

  /** Workers stop once, before any database they may hold is dropped: gracefully once they had
   * their clones (the tests' teardown comes first), at once otherwise. */
  private stopWorkers(graceMs?: number): Promise<void> {
    this.workersStopped ??= (this.pool?.stop(graceMs).catch(() => undefined) ?? Promise.resolve()).then(() =>
      this.releaseLostOutput(),
    );
    return this.workersStopped;
  }

  private releaseLostOutput(): void {
    this.lostOutput.stdout.release();
    this.lostOutput.stderr.release();
  }

  private slots(): number[] {
    return Array.from({ length: this.workers }, (_, i) => i + 1);
  }

  private async buildTemplates(): Promise<void> {
    const { config, hello } = this;
    this.results.phaseStart("template");
    this.workDir = workDirFor(hello.cwd, hello.settings.settingsModule, config.django.keepdb);
    this.templates = await buildTemplates({
      bridge: this.bridge,
      settings: hello.settings,
      usedAliases: this.plan!.discovered.databases,
      keepdb: config.django.keepdb,
      rebuild: config.rebuildTemplates,
      workDir: this.workDir,
      policy: this.policy,
      registry: this.registry,
      backendOptions: backendOptions(config.settings),
      snapshotDir: config.snapshots ? snapshotsDir(path.join(hello.cwd, TIMINGS_DIR)) : undefined,
      concurrency: this.workers,
      verbosity: config.django.verbosity,
      log: this.input.stderr,
    });
    this.results.phaseEnd("template");
    this.eventLog?.write({ type: "templates", templates: this.templates.reports });
    this.eventLog?.write({ type: "dropped", when: "setup", databases: this.templates.dropped.splice(0) });
  }

  /** The bridge may have begun Django's setup as soon as the templates did: it tears down first. */
  private async dropTemplates(): Promise<void> {
    const keepdb = this.config.django.keepdb;
    await this.stopWorkers(0);
    await this.bridge.teardown(keepdb).catch((e: unknown) => reportError(e, this.input.stderr));
    if (this.templates) {
      await this.templates.finish(keepdb);
      this.eventLog?.write({ type: "dropped", when: "teardown", databases: this.templates.dropped });
    }
    await this.registry.close();
    if (this.workDir && !keepdb) rmSync(this.workDir, { recursive: true, force: true });
  }

  private async makeClones(): Promise<void> {
    const templates = this.templates!;
    this.results.phaseStart("clones");
    if (this.config.django.verbosity >= 1) {
      const workers = `${this.workers} worker${this.workers === 1 ? "" : "s"}`;
      for (const t of templates.templates)
        this.input.stderr(`Cloning test database for alias '${t.alias}' (${workers})...\n`);
    }
    this.clones = new CloneSet(templates, this.config.django.keepdb);
    const slotDatabases = await this.clones.create(this.slots());
    this.results.phaseEnd("clones");
    this.eventLog?.write({ type: "clones", slots: slotDatabases, made: { ...this.clones.stats } });
    this.slotDatabases = slotDatabases;
  }

  private async dropClones(): Promise<void> {
    await this.stopWorkers(0);
    // pytest: session and module fixtures may commit outside any test (a django_db_setup
    // override loading data), so no clone counts as clean.
    await this.clones?.finish(this.pytestRun ? () => true : dirtySlots(this.results));
  }

  private async runTests(): Promise<void> {
    const pool = this.pool!;
    const { serialized, receivers } = this.templates!;
    // Spawned workers never share the bridge's process, so forking afresh is for forks only.
    const freshWorkers = receivers.length > 0 && this.startEarly && this.config.startMethod === "fork";
    if (freshWorkers) this.eventLog?.write({ type: "freshWorkers", receivers });
    pool.attachDatabases(this.slotDatabases!, serialized, { freshWorkers });
    if (!this.startEarly) this.results.phaseStart("tests");
    this.held.release();
    this.releaseLostOutput();
    this.progress.start({
      total: this.plan!.items.reduce((sum, item) => sum + item.record.tests.length, 0),
      current: () => pool.current(),
      estimateRemaining: () => pool.estimateRemaining(),
      timed: this.plan!.items.every((item) => this.plan!.timings.classes[item.record.label] !== undefined),
    });
    try {
      await pool.run();
    } finally {
      this.progress.stop();
    }
    this.results.phaseEnd("tests");
    await saveTimings(this.hello.cwd, this.results);
    this.summarize(pool);
  }

  /** After the tests: the console's summary, lost workers, what an interrupt cut short. */
  private summarize(pool: WorkerPool): void {
    const { results, input, config } = this;
    const bridgeGone = this.bridge.channel.closed;
    this.console?.finish(results.testSeconds, this.interrupts.signal !== undefined || bridgeGone);
    input.stderr(formatIncidents(pool.incidents));
    if (this.interrupts.signal || bridgeGone) {
      const { running: cut, notStarted } = pool.cutShort;
      input.stderr(
        `Interrupted: ${cut} class${cut === 1 ? " was" : "es were"} cut short (their running tests have no result); ${notStarted} not started.\n`,
      );
    }
    const seed = this.plan!.discovered.shuffleSeed;
    if (seed !== null && config.django.verbosity >= 1) {
      input.stdout(`Used shuffle seed: ${seed}${config.django.shuffle === null ? " (generated)" : " (given)"}\n`);
    }
    this.eventLog?.write({
      type: "summary",
      testsRun: results.testsRun,
      counts: results.counts,
      workers: this.workers,
    });
    if (this.interrupts.signal) this.testsExitCode = this.interrupts.exitCode;
    else if (bridgeGone) this.testsExitCode = EXIT.testsFailed;
    else this.testsExitCode = results.wasSuccessful ? EXIT.ok : EXIT.testsFailed;
  }

  private async closeBridge(): Promise<void> {
    // Django's setup never began (the run stopped before the templates): the bridge still ends.
    await this.bridge.teardown(this.config.django.keepdb).catch((e: unknown) => reportError(e, this.input.stderr));
    this.results.phaseEnd("teardown");
    await this.bridge.close().catch(() => undefined);
  }

  private async writeReports(): Promise<void> {
    const { config, input, results } = this;
    if (config.django.timing) printTiming(results, input.stderr, input.cliMode);
    const ctx: ReportContext = {
      results,
      config,
      hello: this.hello,
      workers: this.workers,
      cloneStats: this.clones?.stats ?? { clones: 0, errors: 0 },
      stdout: input.stdout,
      stderr: input.stderr,
    };
    for (const reporter of reportersFor(config)) await reporter.finish(ctx);
    await this.eventLog?.close();
  }
}

/** Slots whose clones something committed to: only rolled-back TestCase classes leave them clean. */
function dirtySlots(results: RunResults): (slot: number) => boolean {
  const records = [...results.classes.values()];
  if (records.some((r) => r.interrupted)) return () => true;
  const dirty = new Set(
    records.filter((r) => !["TestCase", "SimpleTestCase", "FailedTest"].includes(r.info.kind)).map((r) => r.slot),
  );
  return (slot) => dirty.has(slot);
}

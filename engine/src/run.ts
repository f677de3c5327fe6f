// One run, stage by stage: config → safety gate → discovery → templates → clones → workers →
// reports → teardown. Each stage lives in its own module; this file only wires them.
import { rmSync } from "node:fs";
import { BridgeClient } from "./bridge/client.ts";
import { CloneSet } from "./clones.ts";
import { resolveConfig, type RunConfig } from "./config/resolve.ts";
import { ConcurrentTestError, EXIT } from "./errors.ts";
import { fallbackReason } from "./fallback.ts";
import { ChannelClosedError, PeerError } from "./protocol/channel.ts";
import type { BridgeHello, RunnerOptions } from "./protocol/messages.ts";
import { ConsoleReporter } from "./reporters/console.ts";
import { EventLog } from "./reporters/eventlog.ts";
import { reportersFor, type ReportContext } from "./reporters/index.ts";
import { printTiming } from "./reporters/timing.ts";
import { RunResults } from "./results.ts";
import { runSafetyGate } from "./safety/gate.ts";
import { WorkQueue } from "./scheduler.ts";
import { buildTemplates, workDirFor } from "./templates.ts";
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
}

export interface RunOutcome {
  exitCode: number;
  /** Set when the caller should run Django's sequential runner instead. */
  fallback?: string;
}

function report(error: unknown, stderr: (text: string) => void): number {
  if (error instanceof ConcurrentTestError) {
    stderr(`${error.name}: ${error.message}\n`);
    if (error.hint) stderr(`Hint: ${error.hint}\n`);
    return error.exitCode;
  }
  if (error instanceof PeerError) {
    stderr(error.traceback ? error.traceback : `${error.message}\n`);
    return EXIT.testsFailed;
  }
  if (error instanceof ChannelClosedError) {
    stderr(`django-concurrent-test: ${error.message}\n`);
    return EXIT.testsFailed;
  }
  stderr(`django-concurrent-test: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
  return EXIT.testsFailed;
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
    config = resolveConfig({
      cli: { ...(hello.runnerOptions ?? {}), ...stripUndefined(input.cli ?? {}) },
      labels: input.labels ?? hello.labels ?? [],
      env: input.env,
      settingsConfig: hello.settings.concurrentTestConfig,
    });
    const policy = runSafetyGate(config, hello.settings);
    const reason = fallbackReason(config, hello.settings);
    if (reason) {
      bridge.fallback(reason);
      await bridge.close();
      return { exitCode: EXIT.fallback, fallback: reason };
    }
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
  const console = new ConsoleReporter(results, {
    verbosity,
    durations: config.django.durations,
    write: input.stderr,
    pythonVersion: hello.pythonVersion,
  });
  let clones: CloneSet | undefined;
  let pool: WorkerPool | undefined;
  let interrupted: NodeJS.Signals | undefined;
  let templatesBuilt = false;
  let workDir: string | undefined;
  let workers = 0;
  const reporters = reportersFor(config);
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) {
      input.stderr("\nForced exit: cleaning up was cut short.\n");
      process.exit(signal === "SIGINT" ? EXIT.sigint : EXIT.sigterm);
    }
    interrupted = signal;
    input.stderr(`\nInterrupted (${signal}): stopping workers and dropping clones; press Ctrl-C again to force.\n`);
    pool?.interrupt();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    results.phaseStart("discovery");
    const discovered = await bridge.discover(config.labels, config.django);
    results.phaseEnd("discovery");
    results.classList = discovered.classes;
    eventLog?.write({ type: "discovered", classes: discovered.classes.length, databases: discovered.databases });
    workers = Math.min(config.workers, discovered.classes.length);

    results.phaseStart("template");
    workDir = workDirFor(hello.cwd, hello.settings.settingsModule, config.django.keepdb);
    const templates = await buildTemplates(bridge, hello.settings, discovered.databases, config.django.keepdb, workDir);
    templatesBuilt = true;
    results.phaseEnd("template");
    eventLog?.write({ type: "templates", templates: templates.templates.map((t) => ({ alias: t.alias, name: t.name })) });
    if (interrupted) throw new InterruptedRun();

    results.phaseStart("clones");
    const slots = Array.from({ length: workers }, (_, i) => i + 1);
    if (verbosity >= 1) {
      for (const t of templates.templates) input.stderr(`Cloning test database for alias '${t.alias}' (${workers} worker${workers === 1 ? "" : "s"})...\n`);
    }
    clones = new CloneSet(templates, policy);
    const slotDatabases = await clones.create(slots);
    results.phaseEnd("clones");
    eventLog?.write({ type: "clones", slots: slotDatabases });
    if (interrupted) throw new InterruptedRun();

    const queue = new WorkQueue(discovered.classes);
    pool = new WorkerPool({
      slots: slotDatabases,
      startMethod: config.startMethod,
      bridge,
      python: hello.python,
      env: { ...input.env, DJANGO_CONCURRENT_TEST_SYS_PATH: JSON.stringify(hello.sysPath) },
      configure: {
        options: { buffer: config.django.buffer, failfast: config.django.failfast, debugSql: config.django.debugSql },
        serializedAliases: discovered.serializedAliases,
        discover: { labels: config.labels, options: config.django },
      },
      queue,
      results,
      failfast: config.django.failfast,
    });
    results.phaseStart("tests");
    await pool.run();
    results.phaseEnd("tests");
    console.finish(results.testSeconds);
    if (discovered.shuffleSeed !== null && verbosity >= 1) {
      input.stdout(`Used shuffle seed: ${discovered.shuffleSeed}${config.django.shuffle === null ? " (generated)" : " (given)"}\n`);
    }
    eventLog?.write({ type: "summary", testsRun: results.testsRun, counts: results.counts, workers });
    if (interrupted) return { exitCode: interrupted === "SIGINT" ? EXIT.sigint : EXIT.sigterm };
    return { exitCode: results.wasSuccessful ? EXIT.ok : EXIT.testsFailed };
  } catch (error) {
    if (error instanceof InterruptedRun) return { exitCode: interrupted === "SIGTERM" ? EXIT.sigterm : EXIT.sigint };
    return { exitCode: report(error, input.stderr) };
  } finally {
    results.phaseStart("teardown");
    await pool?.stop().catch(() => undefined);
    await clones?.dropAll();
    await clones?.close();
    if (templatesBuilt || !bridge.channel.closed) {
      await bridge.teardown(config.django.keepdb).catch((e: unknown) => report(e, input.stderr));
    }
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
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

class InterruptedRun extends Error {}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

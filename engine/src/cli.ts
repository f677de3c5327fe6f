// django-concurrent-test: the engine's command line. `manage.py test` (through the runner)
// calls `run --bridge-fd N`; users may also run it directly from a project root.
import { addProjectOptions, projectEnv, type ProjectFlags } from "./commands/project-options.ts";
import { Command, InvalidArgumentError, Option } from "commander";
import { positiveInt, positiveSeconds } from "./config/resolve.ts";
import { ConcurrentTestException, EXIT } from "./core/errors.ts";
import type { RunnerOptions } from "./protocol/messages.ts";
import { addMergeReportsCommand } from "./commands/merge-reports.ts";
import { addCleanupCommand } from "./commands/cleanup.ts";
import { run } from "./commands/run.ts";
import { ENGINE_VERSION } from "./core/version.ts";

function integer(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("must be a whole number.");
  return Number(value);
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

interface CliFlags extends ProjectFlags {
  bridgeFd?: number;
  workers?: number;
  verbosity?: number;
  failfast?: boolean;
  keepdb?: boolean;
  shuffle?: number | true;
  reverse?: boolean;
  buffer?: boolean;
  k?: string[];
  tag?: string[];
  excludeTag?: string[];
  debugSql?: boolean;
  timing?: boolean;
  durations?: number;
  benchmark?: boolean;
  junitxml?: string;
  timeout?: number;
  html?: string;
  shard?: string;
  startMethod?: "fork" | "spawn";
  rebuildTemplates?: boolean;
  pattern?: string;
  topLevelDirectory?: string;
  noinput?: boolean;
}

function toRunnerOptions(f: CliFlags): Partial<RunnerOptions> {
  const o: Partial<RunnerOptions> = {
    workers: f.workers,
    verbosity: f.verbosity,
    failfast: f.failfast,
    keepdb: f.keepdb,
    reverse: f.reverse,
    buffer: f.buffer,
    testNamePatterns: f.k,
    tags: f.tag,
    excludeTags: f.excludeTag,
    debugSql: f.debugSql,
    timing: f.timing,
    durations: f.durations,
    benchmark: f.benchmark,
    junitxml: f.junitxml,
    timeout: f.timeout,
    html: f.html,
    shard: f.shard,
    startMethod: f.startMethod,
    rebuildTemplates: f.rebuildTemplates,
    pattern: f.pattern,
    topLevel: f.topLevelDirectory,
    interactive: f.noinput ? false : undefined,
  };
  if (f.shuffle !== undefined) o.shuffle = f.shuffle === true ? null : f.shuffle;
  return o;
}

export function buildProgram(): Command {
  const program = new Command("django-concurrent-test")
    .description("Run a Django test suite concurrently, each worker on its own clone of the migrated test database.")
    .version(ENGINE_VERSION, "-V, --version", "print the engine version")
    .showHelpAfterError();

  addProjectOptions(
    program
      .command("run", { isDefault: true })
      .description("run the test suite of the Django project in the current directory")
      .argument("[labels...]", "test labels: app, module, class, method or directory path"),
  )
    .option("--workers <n>", "number of worker processes (default: CPU count)", (v: string) =>
      positiveInt(v, "--workers"),
    )
    .option("-v, --verbosity <n>", "0, 1, 2 or 3", integer)
    .option("--failfast", "stop handing out work after the first failure")
    .option("--keepdb", "keep the template database between runs")
    .option("--shuffle [seed]", "shuffle the test order", integer)
    .option("-r, --reverse", "reverse the test order")
    .option("-b, --buffer", "capture output; show it only for failures")
    .option("-k <pattern>", "only tests matching the pattern (repeatable)", collect)
    .option("--tag <tag>", "only tests with the tag (repeatable)", collect)
    .option("--exclude-tag <tag>", "skip tests with the tag (repeatable)", collect)
    .option("-d, --debug-sql", "print the SQL of failing tests")
    .option("--timing", "print where the time went")
    .option("--durations <n>", "show the N slowest tests (0 for all)", integer)
    .option("--benchmark", "print the benchmark summary")
    .option("--junitxml <path>", "write a JUnit XML report")
    .option("--timeout <seconds>", "kill a worker whose test class runs longer (default 300)", (v: string) =>
      positiveSeconds(v, "--timeout"),
    )
    .option("--html <path>", "write a self-contained HTML report with a worker timeline")
    .option("--shard <i/N>", "run only part i of N of the suite, balanced by stored timings (CI)")
    .addOption(new Option("--start-method <how>", "how workers start").choices(["fork", "spawn"]))
    .option("--rebuild-templates", "migrate the template databases again even when the cache has them")
    .option("-p, --pattern <glob>", "test file pattern (default test*.py)")
    .option("-t, --top-level-directory <dir>", "top level of the project for discovery")
    .option("--noinput", "never prompt")
    .addOption(new Option("--bridge-fd <fd>", "internal: the adapter's bridge socket").argParser(integer).hideHelp())
    .action(async (labels: string[], flags: CliFlags) => {
      const env = projectEnv(flags);
      const write = (stream: NodeJS.WriteStream) => (text: string) => void stream.write(text);
      const outcome = await run({
        bridgeFd: flags.bridgeFd,
        python: flags.python,
        cli: flags.bridgeFd === undefined ? toRunnerOptions(flags) : {},
        labels: flags.bridgeFd === undefined ? labels : undefined,
        env,
        stdout: write(process.stdout),
        stderr: write(process.stderr),
        terminal: { isTTY: Boolean(process.stderr.isTTY), columns: () => process.stderr.columns || 80 },
      });
      process.exitCode = outcome.exitCode;
    });
  addMergeReportsCommand(program);
  addCleanupCommand(program);
  return program;
}

buildProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    // A bad option value (--workers, --timeout): one line and a hint, as every refusal.
    if (error instanceof ConcurrentTestException) {
      process.stderr.write(`${error.name}: ${error.message}\n${error.hint ? `Hint: ${error.hint}\n` : ""}`);
    } else {
      process.stderr.write(`django-concurrent-test: ${(error as Error).message}\n`);
    }
    process.exitCode = EXIT.configError;
  });

// Configuration: command line > environment > settings.CONCURRENT_TEST_CONFIG > defaults.
import os from "node:os";
import { ConfigError } from "../core/errors.ts";
import type { DjangoOptions, RunnerOptions } from "../protocol/messages.ts";
import { MAX_WORKERS, parseSettingsConfig, type SettingsConfig } from "./settings-config.ts";
import { parseShard, type ShardSpec } from "./shard.ts";

export type Source = "command line" | "environment" | "settings" | "default";

export interface RunConfig {
  labels: string[];
  django: DjangoOptions;
  workers: number;
  workersSource: Source;
  /** Seconds one test class may run on a worker before it is killed (WorkerTimeout). */
  timeout: number;
  /** How often the unfinished tests of a class whose worker crashed run again (0: never). */
  crashRetries: number;
  /** Workers flush only the tables that hold rows after a TransactionTestCase test. */
  fastFlush: boolean;
  benchmark: boolean;
  junitXml: string | null;
  html: string | null;
  /** --shard=i/N: this run is part `index` (1-based) of `total`. */
  shard: ShardSpec | null;
  startMethod: "fork" | "spawn";
  /** DJANGO_ENABLE_CONCURRENT or CONCURRENT_TEST_CONFIG["enabled"]. */
  enabled: boolean;
  noTelemetry: boolean;
  eventLog: string | null;
  /** DJANGO_CONCURRENT_TEST_PROGRESS: live line on a terminal, plain lines elsewhere ("auto"). */
  progress: "auto" | "live" | "plain" | "off";
  /** DJANGO_CONCURRENT_TEST_PROGRESS_INTERVAL: seconds between plain progress lines. */
  progressInterval: number;
  /** DJANGO_CONCURRENT_TEST_ORDER=discovery hands classes out in discovery order (comparisons). */
  order: "expected" | "discovery";
  /** --rebuild-templates: migrate every template again even when the cache has it. */
  rebuildTemplates: boolean;
  /** DJANGO_CONCURRENT_TEST_SNAPSHOTS or CONCURRENT_TEST_CONFIG["snapshots"]: template snapshot files. */
  snapshots: boolean;
  settings: SettingsConfig;
}

export const DEFAULT_DJANGO_OPTIONS: DjangoOptions = {
  verbosity: 1,
  interactive: false,
  failfast: false,
  keepdb: false,
  reverse: false,
  debugMode: false,
  debugSql: false,
  parallel: 0,
  tags: [],
  excludeTags: [],
  testNamePatterns: null,
  pdb: false,
  buffer: false,
  timing: false,
  shuffle: false,
  durations: null,
  pattern: null,
  topLevel: null,
};

export interface ConfigInput {
  /** What the command line said (the runner's parsed options, or the CLI's). */
  cli: Partial<RunnerOptions>;
  labels: string[];
  env: NodeJS.ProcessEnv;
  settingsConfig: unknown;
  cpuCount?: number;
}

const TRUTHY = new Set(["1", "true", "yes", "on"]);

export function isTruthy(value: string | undefined): boolean {
  return value !== undefined && TRUTHY.has(value.trim().toLowerCase());
}

const WORKERS_HINT: Record<string, string> = {
  "--workers": "pass a whole number such as --workers 4, or leave it out for one worker per CPU",
  "--parallel": "pass a whole number such as --parallel 4, or --parallel auto",
  DJANGO_TEST_WORKERS: "set DJANGO_TEST_WORKERS to a whole number such as 4, or unset it for one worker per CPU",
};

const SECONDS_HINT: Record<string, string> = {
  "--timeout": "pass the seconds one test class may take, such as --timeout 600 (default 300)",
  DJANGO_TEST_TIMEOUT: "set DJANGO_TEST_TIMEOUT to the seconds one test class may take, such as 600, or unset it",
};

/** A worker count (a ConfigError with a hint unless 1..MAX_WORKERS); the CLI parses with it too. */
export function positiveInt(value: unknown, what: string): number {
  const n = typeof value === "string" && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  const hint = WORKERS_HINT[what];
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1) {
    throw new ConfigError(`${what} must be a whole number of at least 1, not ${JSON.stringify(value)}`, hint);
  }
  if (n > MAX_WORKERS) {
    throw new ConfigError(`${what} ${n} is more than the ${MAX_WORKERS} workers one run may start`, hint);
  }
  return n;
}

/** Seconds above 0, finite (a ConfigError with a hint otherwise); the CLI parses with it too. */
export function positiveSeconds(value: unknown, what: string): number {
  const n = typeof value === "string" && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n) || n <= 0) {
    throw new ConfigError(
      `${what} must be a finite number of seconds above 0, not ${JSON.stringify(value)}`,
      SECONDS_HINT[what] ?? `set ${what} to a number of seconds such as 30, or unset it`,
    );
  }
  return n;
}

/** An environment variable with a fixed set of values; unset or empty gives the first. */
function oneOf<T extends string>(value: string | undefined, what: string, allowed: readonly [T, ...T[]]): T {
  if (value === undefined || value === "") return allowed[0];
  const v = value.trim().toLowerCase();
  if (!(allowed as readonly string[]).includes(v)) {
    throw new ConfigError(
      `${what} must be one of ${allowed.join(", ")}, not ${JSON.stringify(value)}`,
      `set ${what} to ${allowed.join(", ")}, or unset it`,
    );
  }
  return v as T;
}

function resolveWorkers(input: ConfigInput, settings: SettingsConfig): [number, Source] {
  const { cli, env } = input;
  if (cli.workers !== null && cli.workers !== undefined) return [positiveInt(cli.workers, "--workers"), "command line"];
  // Django's own --parallel N keeps working as a worker count under this runner.
  if (cli.parallel !== undefined && cli.parallel !== 0 && cli.parallel !== null) {
    if (cli.parallel === "auto") return [input.cpuCount ?? os.availableParallelism(), "command line"];
    return [positiveInt(cli.parallel, "--parallel"), "command line"];
  }
  if (env.DJANGO_TEST_WORKERS !== undefined && env.DJANGO_TEST_WORKERS !== "") {
    return [positiveInt(env.DJANGO_TEST_WORKERS, "DJANGO_TEST_WORKERS"), "environment"];
  }
  if (settings.workers !== undefined) return [settings.workers, "settings"];
  return [input.cpuCount ?? os.availableParallelism(), "default"];
}

export function resolveConfig(input: ConfigInput): RunConfig {
  const settings = parseSettingsConfig(input.settingsConfig);
  const { cli, env } = input;
  const [workers, workersSource] = resolveWorkers(input, settings);
  const django: DjangoOptions = { ...DEFAULT_DJANGO_OPTIONS };
  for (const key of Object.keys(DEFAULT_DJANGO_OPTIONS) as (keyof DjangoOptions)[]) {
    const value = cli[key];
    if (value !== undefined) (django as unknown as Record<string, unknown>)[key] = value;
  }
  const startMethod = cli.startMethod ?? settings.start_method ?? (process.platform === "win32" ? "spawn" : "fork");
  let timeout = settings.timeout ?? 300;
  if (env.DJANGO_TEST_TIMEOUT) timeout = positiveSeconds(env.DJANGO_TEST_TIMEOUT, "DJANGO_TEST_TIMEOUT");
  if (cli.timeout !== null && cli.timeout !== undefined) timeout = positiveSeconds(cli.timeout, "--timeout");
  return {
    labels: input.labels,
    django,
    workers,
    workersSource,
    timeout,
    crashRetries: settings.crash_retries ?? 1,
    fastFlush: env.DJANGO_CONCURRENT_TEST_FAST_FLUSH
      ? !["0", "false", "no", "off"].includes(env.DJANGO_CONCURRENT_TEST_FAST_FLUSH.trim().toLowerCase())
      : (settings.fast_flush ?? true),
    // Off unless asked for: without --keepdb a run migrates from scratch, as Django's does.
    snapshots: env.DJANGO_CONCURRENT_TEST_SNAPSHOTS
      ? isTruthy(env.DJANGO_CONCURRENT_TEST_SNAPSHOTS)
      : (settings.snapshots ?? false),
    benchmark: cli.benchmark ?? settings.benchmark ?? false,
    junitXml: cli.junitxml ?? settings.junit_xml ?? null,
    html: cli.html ?? settings.html ?? null,
    shard: cli.shard ? parseShard(cli.shard) : null,
    startMethod,
    enabled:
      env.DJANGO_ENABLE_CONCURRENT !== undefined ? isTruthy(env.DJANGO_ENABLE_CONCURRENT) : settings.enabled === true,
    noTelemetry: env.NO_TELEMETRY === "1",
    eventLog: env.DJANGO_CONCURRENT_TEST_EVENT_LOG || null,
    progress: oneOf(env.DJANGO_CONCURRENT_TEST_PROGRESS, "DJANGO_CONCURRENT_TEST_PROGRESS", [
      "auto",
      "live",
      "plain",
      "off",
    ]),
    progressInterval: env.DJANGO_CONCURRENT_TEST_PROGRESS_INTERVAL
      ? positiveSeconds(env.DJANGO_CONCURRENT_TEST_PROGRESS_INTERVAL, "DJANGO_CONCURRENT_TEST_PROGRESS_INTERVAL")
      : 30,
    order: oneOf(env.DJANGO_CONCURRENT_TEST_ORDER, "DJANGO_CONCURRENT_TEST_ORDER", ["expected", "discovery"]),
    rebuildTemplates: cli.rebuildTemplates ?? false,
    settings,
  };
}

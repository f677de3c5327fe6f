// The message set between the engine and the Python processes (bridge and workers).
// One definition: protocol/protocol.schema.json at the repository root; this file mirrors it
// as types and python/django_concurrent_test/protocol.py speaks it. Both sides are tested
// against protocol/examples.jsonl.

import type { PytestPayload, StopWork } from "./pytest-messages.ts";

export const PROTOCOL_VERSION = 3;

export type Outcome = "success" | "failure" | "error" | "skip" | "expectedFailure" | "unexpectedSuccess";

/** One DATABASES entry as the bridge read it (keys lower-cased). */
export interface DatabaseSettings {
  engine: string;
  name: string | null;
  user: string | null;
  password: string | null;
  host: string | null;
  port: string | number | null;
  vendor: string;
  test: {
    name: string | null;
    mirror: string | null;
    dependencies: string[] | null;
    charset: string | null;
    collation: string | null;
    template: string | null;
  };
}

export interface ProjectSettings {
  debug: boolean;
  /** Whether the settings module sets DEBUG at all (absent from older bridges: taken as set). */
  debugSet?: boolean;
  settingsModule: string;
  installedApps: string[];
  databases: Record<string, DatabaseSettings>;
  concurrentTestConfig: Record<string, unknown> | null;
}

/** Django test options as the runner parsed them (null where Django has no value). */
export interface DjangoOptions {
  verbosity: number;
  interactive: boolean;
  failfast: boolean;
  keepdb: boolean;
  reverse: boolean;
  debugMode: boolean;
  debugSql: boolean;
  parallel: number | string;
  tags: string[];
  excludeTags: string[];
  testNamePatterns: string[] | null;
  pdb: boolean;
  buffer: boolean;
  timing: boolean;
  /** false: no shuffle; null: shuffle with a random seed; number: that seed. */
  shuffle: false | null | number;
  durations: number | null;
  pattern: string | null;
  topLevel: string | null;
}

export interface RunnerOptions extends DjangoOptions {
  workers: number | null;
  benchmark: boolean | null;
  junitxml: string | null;
  /** --timeout=SECONDS: the longest one test class may run on a worker. */
  timeout?: number | null;
  /** --html=PATH: the self-contained HTML report. */
  html?: string | null;
  /** --shard=i/N: run only part i of N of the suite (CI sharding). */
  shard?: string | null;
  startMethod: "fork" | "spawn" | null;
  /** Who prints results: Django's format (the engine) or pytest's (the main pytest process). */
  flavour?: "django" | "pytest";
  /** --rebuild-templates: migrate the templates again even when the cache has them. */
  rebuildTemplates?: boolean | null;
}

export interface BridgeHello {
  type: "hello";
  role: "bridge";
  protocol: number;
  pid: number;
  python: string;
  pythonVersion: [number, number];
  sysPath: string[];
  djangoVersion: string;
  cwd: string;
  settings: ProjectSettings;
  runnerOptions: RunnerOptions | null;
  labels: string[] | null;
}

export interface TestInfo {
  id: string;
  description: string;
}

export type ClassKind =
  "TestCase" | "TransactionTestCase" | "LiveServerTestCase" | "SimpleTestCase" | "unittest" | "FailedTest";

/** One TestCase class: the unit of scheduling. */
export interface TestClassInfo {
  index: number;
  label: string;
  kind: ClassKind;
  file: string | null;
  line: number | null;
  databases: string[];
  serializedRollback: boolean;
  tests: TestInfo[];
  /** The class may be split by test across workers (no class-level fixtures of its own). */
  splittable?: boolean;
  /**
   * It may run before the test databases exist: a SimpleTestCase without databases whose own
   * code all runs inside Django's query guard (no module fixtures; its setUpClass begins with
   * super().setUpClass() and its tearDownClass ends with super().tearDownClass()).
   */
  beforeDatabases?: boolean;
}

export interface Discovered {
  type: "discovered";
  classes: TestClassInfo[];
  databases: string[];
  serializedAliases: string[];
  shuffleSeed: number | null;
}

export interface AliasState {
  name: string;
  vendor: string;
  /** The alias whose test database was created (others share or mirror it). */
  primary: boolean;
  used: boolean;
}

export interface DatabasesReady {
  type: "databasesReady";
  aliases: Record<string, AliasState>;
  /** Migrations applied per template alias (0 when the template came from the cache). */
  migrations?: Record<string, number>;
  /** serialized_rollback: each serialized alias's template contents, as Django serialized them. */
  serialized?: Record<string, string>;
  /** The project's signal receivers connected (or disconnected) while the databases were made:
   * workers forked before that do not have them. */
  receivers?: string[];
}

/** One test database to build (a Django test-database signature) and its template hash. */
export interface FingerprintGroup {
  /** The alias whose test database is created; `aliases` share it, `mirrors` point at it. */
  alias: string;
  aliases: string[];
  mirrors: string[];
  vendor: string;
  /** Django's test database name for the alias (TEST NAME or test_ + NAME). */
  testName: string;
  inMemory: boolean;
  /** sha256 of migrations, their code, INSTALLED_APPS, alias settings and versions. */
  hash: string;
  /** A digest per part of the hash, to show what changed. */
  parts: Record<string, string>;
}

export interface Fingerprinted {
  type: "fingerprinted";
  groups: FingerprintGroup[];
}

/** What the bridge does for a template alias: migrate into it, or only point at it. */
export interface TemplateStep {
  name: string;
  action: "build" | "reuse";
}

export interface BridgeError {
  type: "error";
  phase: string;
  message: string;
  traceback: string;
}

export interface Forked {
  type: "forked";
  slot: number;
  pid: number;
}

export interface WorkerExited {
  type: "workerExited";
  slot: number;
  pid: number;
  code: number | null;
  signal: number | null;
}

export interface TornDown {
  type: "tornDown";
}

/** A sequential run's stage, as the bridge enters or leaves it (the engine's phase names). */
export interface SequentialPhase {
  type: "phase";
  phase: "template" | "tests" | "teardown";
  edge: "start" | "end";
}

/** The sequential run is over; `failures` is Django's suite_result (0: success). */
export interface SequentialDone {
  type: "sequentialDone";
  failures: number;
}

/** What the bridge sends while it runs the suite itself: a worker's events, plus its stages. */
export type SequentialEvent =
  | SequentialPhase
  | { type: "classStart"; classIndex: number; slot: number }
  | { type: "classDone"; classIndex: number; slot: number }
  | TestStart
  | TestStop
  | OutcomeEvent;

export type FromBridge =
  | BridgeHello
  | Discovered
  | DatabasesReady
  | Fingerprinted
  | BridgeError
  | Forked
  | WorkerExited
  | TornDown
  | StopWork
  | SequentialEvent
  | SequentialDone;

export interface DiscoverRequest {
  type: "discover";
  labels: string[];
  options: DjangoOptions;
}

export type ToBridge =
  | DiscoverRequest
  | { type: "fingerprint"; aliases: string[] }
  | { type: "setupDatabases"; keepdb: boolean; testNames: Record<string, string>; plan?: Record<string, TemplateStep> }
  | { type: "forkWorkers"; socketPath: string; slots: number[] }
  | { type: "teardown"; keepdb: boolean }
  /** Run the suite in the bridge's own process, as Django's runner would (`classes`: a shard's). */
  | { type: "runSequential"; classes: number[] | null; slot: number }
  /** pytest --concurrent: run pytest's own loop instead (the engine exits with EXIT.handBack). */
  | { type: "fallback"; reason: string }
  | { type: "shutdown" }
  | PytestOutcome;

/** Where a worker's connection for one alias points. */
export interface CloneSpec {
  name: string;
  /** SQLite in-memory test databases: load this file into memory inside the worker. */
  loadIntoMemoryFrom?: string;
}

export type ToWorker =
  | {
      type: "configure";
      options: { buffer: boolean; failfast: boolean; debugSql: boolean; fastFlush?: boolean };
      clones: Record<string, CloneSpec>;
      serializedAliases: string[];
      discover: { labels: string[]; options: DjangoOptions };
      /** Path prefix of the files holding what tests write before attach (recovered if the worker dies first). */
      heldOutput?: string;
      /** Heartbeat interval, and where faulthandler writes stacks (fatal signal or SIGUSR1). */
      supervision?: { heartbeatSeconds: number; stackFile: string };
    }
  /** The clones, for a worker configured before they existed (it ran database-free classes meanwhile). */
  | {
      type: "attach";
      clones: Record<string, CloneSpec>;
      serializedAliases: string[];
      /** What the bridge serialized, so the worker need not serialize its clone again. */
      serializedContents?: Record<string, string>;
    }
  /** Run the class; `tests` (ids) limits it to some of its tests (one part of a split class, a retry). */
  | { type: "run"; classIndex: number; tests?: string[] }
  | { type: "stop" };

export interface WorkerHello {
  type: "hello";
  role: "worker";
  protocol: number;
  slot: number;
  pid: number;
}

export interface OutcomeEvent {
  type: "outcome";
  classIndex: number;
  test: string;
  description: string;
  outcome: Outcome;
  /** Set for a subtest: the id of the test it belongs to. */
  parent?: string;
  traceback?: string;
  reason?: string;
  sql?: string;
  /** pytest --concurrent: pytest's own reports of the item, for the main pytest process. */
  pytest?: PytestPayload;
}

export interface TestStart {
  type: "testStart";
  classIndex: number;
  test: string;
}

export interface TestStop {
  type: "testStop";
  classIndex: number;
  test: string;
  duration: number;
  stdout?: string;
  stderr?: string;
}

export type FromWorker =
  | WorkerHello
  | { type: "ready"; slot: number }
  /** The worker's connections now point at its clones (the answer to attach). */
  | { type: "attached"; slot: number }
  /** Sent every `heartbeatSeconds` from a thread: the interpreter is alive and not frozen. */
  | { type: "heartbeat"; slot: number }
  | { type: "classStart"; classIndex: number; slot: number }
  | { type: "classDone"; classIndex: number; slot: number }
  /** A test (or its class's setup/teardown) raised KeyboardInterrupt: the run ends, as under Django's runner. */
  | { type: "keyboardInterrupt"; classIndex: number; slot: number; test: string }
  | TestStart
  | TestStop
  | OutcomeEvent;

/** pytest --concurrent, engine -> bridge: an item's outcome (the worker's, or one made for a lost test). */
export interface PytestOutcome {
  type: "pytestOutcome";
  event: OutcomeEvent;
}

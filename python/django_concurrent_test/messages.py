"""The protocol's messages as typed dicts, so mypy checks every message built or read here.

One definition of the protocol: ``protocol/protocol.schema.json`` (tests/test_messages.py
keeps these types to its message types and required/optional fields). A key that is
``NotRequired`` here is optional in the schema; nested objects are typed where Python reads or
builds their fields, and left as plain dicts where it only passes them on.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

Outcome = Literal["success", "failure", "error", "skip", "expectedFailure", "unexpectedSuccess"]
ClassKind = Literal[
    "TestCase",
    "TransactionTestCase",
    "LiveServerTestCase",
    "SimpleTestCase",
    "unittest",
    "FailedTest",
]


class DjangoOptions(TypedDict):
    """Django's test options as the runner parsed them (what discovery and workers read)."""

    verbosity: int
    failfast: bool
    keepdb: bool
    reverse: bool
    debugSql: bool
    tags: list[str]
    excludeTags: list[str]
    buffer: bool
    shuffle: bool | int | None
    testNamePatterns: NotRequired[list[str] | None]
    interactive: NotRequired[bool]
    debugMode: NotRequired[bool]
    parallel: NotRequired[int | str]
    pdb: NotRequired[bool]
    timing: NotRequired[bool]
    durations: NotRequired[int | None]
    pattern: NotRequired[str | None]
    topLevel: NotRequired[str | None]


class RunnerOptions(TypedDict, total=False):
    """The front end's options for the engine (``manage.py test``'s or ``pytest --concurrent``'s):
    Django's options and the run options of options.py. A value the front end could not parse
    is passed as its text, which the engine refuses with a hint."""

    flavour: Literal["django", "pytest"]
    workers: int | str | None
    benchmark: bool | None
    junitxml: str | None
    html: str | None
    shard: str | None
    timeout: float | str | None
    startMethod: str | None
    rebuildTemplates: bool | None
    verbosity: int
    interactive: bool
    failfast: bool
    keepdb: bool
    reverse: bool
    debugMode: bool
    debugSql: bool
    parallel: int | str
    tags: list[str]
    excludeTags: list[str]
    testNamePatterns: list[str] | None
    pdb: bool
    buffer: bool
    timing: bool
    shuffle: bool | int | None
    durations: int | None
    pattern: str | None
    topLevel: str | None


class TestInfo(TypedDict):
    id: str
    description: str


class TestClassInfo(TypedDict):
    """One unit of scheduling: a TestCase class (a group of items under pytest)."""

    index: int
    label: str
    kind: ClassKind
    databases: list[str]
    serializedRollback: bool
    tests: list[TestInfo]
    file: NotRequired[str | None]
    line: NotRequired[int | None]
    splittable: NotRequired[bool]
    beforeDatabases: NotRequired[bool]


class PytestPayload(TypedDict):
    """pytest's own reports of an item and its warnings, for the main pytest process."""

    location: list[Any]
    reports: list[dict[str, Any]]
    warnings: list[dict[str, Any]]


class AliasState(TypedDict):
    name: str
    vendor: str
    primary: bool
    used: bool


class TemplateStep(TypedDict):
    name: str
    action: Literal["build", "reuse"]


class CloneSpec(TypedDict):
    name: str
    loadIntoMemoryFrom: NotRequired[str]


class WorkerOptions(TypedDict):
    buffer: bool
    failfast: bool
    debugSql: bool
    fastFlush: NotRequired[bool]


class Supervision(TypedDict):
    heartbeatSeconds: float
    stackFile: str


# --- The bridge and the engine ---------------------------------------------------------------


class SettingsInfo(TypedDict):
    """The project's settings as the safety gate reads them (settings_inspection.py)."""

    debug: bool
    debugSet: bool
    settingsModule: str | None
    installedApps: list[str]
    # Per alias: engine, name, user, password, host, port, vendor and test (TEST, lower-cased).
    databases: dict[str, dict[str, Any]]
    concurrentTestConfig: Any


class BridgeHello(TypedDict):
    type: Literal["hello"]
    role: Literal["bridge"]
    protocol: int
    pid: int
    python: str
    pythonVersion: list[int]
    sysPath: list[str]
    djangoVersion: str
    cwd: str
    settings: SettingsInfo
    runnerOptions: NotRequired[RunnerOptions | None]
    labels: NotRequired[list[str] | None]


class DiscoverRequest(TypedDict):
    type: Literal["discover"]
    labels: list[str]
    options: DjangoOptions


class Discovered(TypedDict):
    type: Literal["discovered"]
    classes: list[TestClassInfo]
    databases: list[str]
    serializedAliases: list[str]
    shuffleSeed: int | None


class FingerprintRequest(TypedDict):
    type: Literal["fingerprint"]
    aliases: list[str]


class Fingerprinted(TypedDict):
    type: Literal["fingerprinted"]
    groups: list[dict[str, Any]]


class SetupDatabases(TypedDict):
    type: Literal["setupDatabases"]
    keepdb: bool
    testNames: dict[str, str]
    plan: NotRequired[dict[str, TemplateStep]]


class DatabasesReady(TypedDict):
    type: Literal["databasesReady"]
    aliases: dict[str, AliasState]
    migrations: NotRequired[dict[str, int]]
    serialized: NotRequired[dict[str, str]]
    receivers: NotRequired[list[str]]


class ForkWorkers(TypedDict):
    type: Literal["forkWorkers"]
    socketPath: str
    slots: list[int]


class Forked(TypedDict):
    type: Literal["forked"]
    slot: int
    pid: int


class WorkerExited(TypedDict):
    type: Literal["workerExited"]
    slot: int
    pid: int
    code: int | None
    signal: int | None


class Teardown(TypedDict):
    type: Literal["teardown"]
    keepdb: bool


class TornDown(TypedDict):
    type: Literal["tornDown"]


class RunSequential(TypedDict):
    type: Literal["runSequential"]
    classes: list[int] | None
    slot: int


class SequentialPhase(TypedDict):
    type: Literal["phase"]
    phase: Literal["template", "tests", "teardown"]
    edge: Literal["start", "end"]


class SequentialDone(TypedDict):
    type: Literal["sequentialDone"]
    failures: int


class Fallback(TypedDict):
    type: Literal["fallback"]
    reason: str


class Shutdown(TypedDict):
    type: Literal["shutdown"]


class BridgeError(TypedDict):
    type: Literal["error"]
    phase: str
    message: str
    traceback: str


# --- A worker (or the bridge running the suite itself) and the engine -------------------------


class WorkerHello(TypedDict):
    type: Literal["hello"]
    role: Literal["worker"]
    protocol: int
    slot: int
    pid: int


class Configure(TypedDict):
    type: Literal["configure"]
    options: WorkerOptions
    clones: dict[str, CloneSpec]
    serializedAliases: list[str]
    discover: DiscoverRequest
    heldOutput: NotRequired[str]
    supervision: NotRequired[Supervision]


class Ready(TypedDict):
    type: Literal["ready"]
    slot: int


class Attach(TypedDict):
    type: Literal["attach"]
    clones: dict[str, CloneSpec]
    serializedAliases: list[str]
    serializedContents: NotRequired[dict[str, str]]


class Attached(TypedDict):
    type: Literal["attached"]
    slot: int


class Heartbeat(TypedDict):
    type: Literal["heartbeat"]
    slot: int


class RunClass(TypedDict):
    type: Literal["run"]
    classIndex: int
    tests: NotRequired[list[str]]


class Stop(TypedDict):
    type: Literal["stop"]


class ClassStart(TypedDict):
    type: Literal["classStart"]
    classIndex: int
    slot: int


class ClassDone(TypedDict):
    type: Literal["classDone"]
    classIndex: int
    slot: int


class TestStart(TypedDict):
    type: Literal["testStart"]
    classIndex: int
    test: str


class TestStop(TypedDict):
    type: Literal["testStop"]
    classIndex: int
    test: str
    duration: float
    stdout: NotRequired[str]
    stderr: NotRequired[str]


class OutcomeEvent(TypedDict):
    type: Literal["outcome"]
    classIndex: int
    test: str
    description: str
    outcome: Outcome
    parent: NotRequired[str]
    traceback: NotRequired[str]
    reason: NotRequired[str]
    sql: NotRequired[str]
    pytest: NotRequired[PytestPayload]


class KeyboardInterruptEvent(TypedDict):
    type: Literal["keyboardInterrupt"]
    classIndex: int
    slot: int
    test: str


# --- pytest --concurrent -----------------------------------------------------------------------


class PytestOutcome(TypedDict):
    type: Literal["pytestOutcome"]
    event: OutcomeEvent


class StopWork(TypedDict):
    type: Literal["stopWork"]
    reason: str


#: What a worker's result (or the bridge's, in a sequential run) streams about the tests.
WorkerEvent = ClassStart | ClassDone | TestStart | TestStop | OutcomeEvent | SequentialPhase
FromWorker = WorkerHello | Ready | Attached | Heartbeat | KeyboardInterruptEvent | WorkerEvent
FromBridge = (
    BridgeHello
    | Discovered
    | Fingerprinted
    | DatabasesReady
    | Forked
    | WorkerExited
    | TornDown
    | SequentialDone
    | BridgeError
    | StopWork
)
ToBridge = (
    DiscoverRequest
    | FingerprintRequest
    | SetupDatabases
    | ForkWorkers
    | Teardown
    | RunSequential
    | Fallback
    | Shutdown
    | PytestOutcome
)
ToWorker = Configure | Attach | RunClass | Stop
#: Every message Python sends, and every message it receives.
Sent = FromBridge | FromWorker
Received = ToBridge | ToWorker

// Template databases: one migrated test database per Django test-database signature, named
// <test name>_<hash> where the hash (computed by the bridge) covers everything that decides its
// schema and rows. A complete template with this run's hash is reused without a migration;
// otherwise the engine creates an empty, recorded database and Django's own creation code (in
// the bridge) migrates it. One run builds a template at a time (a named lock per template).
// SQLite test databases get a template file in the run's work directory (work-dirs.ts);
// in-memory ones are loaded back into memory by each worker. With snapshots on, a template the
// server lacks is restored from the project's snapshot file, and a built one is saved to it.
import path from "node:path";
import type { BridgeClient } from "../bridge/client.ts";
import { parseEngineName, serverTemplateName, sqliteTemplateName } from "./naming.ts";
import { currentOwner, ownerLiveness } from "./owner.ts";
import type { DatabaseRecord } from "./records.ts";
import { dropStaleTemplates, sweepFamily, sweepOrphans, type SweepAction } from "./sweep.ts";
import type { BackendOptions, DatabaseBackend, HeldLock } from "./backend.ts";
import type { BackendRegistry } from "./index.ts";
import { DatabaseTemplateException } from "../core/errors.ts";
import type {
  DatabaseSettings,
  DatabasesReady,
  FingerprintGroup,
  ProjectSettings,
  TemplateStep,
} from "../protocol/messages.ts";
import type { NamePolicy } from "../safety/names.ts";
import { restoreFromSnapshot, saveSnapshot, type SnapshotContext, type SnapshotTarget } from "./snapshots-templates.ts";

export interface Template {
  /** The alias whose test database this is. */
  alias: string;
  vendor: string;
  /** Database name (or SQLite file path) of the template. */
  name: string;
  /** SQLite whose test database Django would keep in memory. */
  inMemory: boolean;
  settings: DatabaseSettings;
  /** The full template hash (the name carries its first characters). */
  hash: string;
  /** What this run did: migrated it, or found it complete in the cache. */
  action: "built" | "reused";
  /** Migrations Django applied to build it (0 when reused). */
  migrations: number;
  backend: DatabaseBackend;
  /** Restored from its snapshot file (reused), or saved to one after it was built. */
  snapshot?: "restored" | "saved";
}

/** Every database statement the run issues for a template goes through its backend. */
export interface TemplateOptions {
  bridge: BridgeClient;
  settings: ProjectSettings;
  usedAliases: string[];
  keepdb: boolean;
  /** --rebuild-templates: migrate again even when a complete template matches. */
  rebuild: boolean;
  workDir: string;
  policy: NamePolicy;
  registry: BackendRegistry;
  backendOptions: BackendOptions;
  /** Clones made at once (the pool size of each backend). */
  concurrency: number;
  verbosity: number;
  log: (text: string) => void;
  /** How long to wait for another run building the same template. */
  lockTimeoutMs?: number;
  /** The project's snapshots folder (snapshots.ts); unset, no snapshot is read or written. */
  snapshotDir?: string;
}

export interface TemplateReport {
  alias: string;
  name: string;
  hash: string;
  action: "built" | "reused";
  migrations: number;
  snapshot?: "restored" | "saved";
}

const DEFAULT_LOCK_TIMEOUT_MS = 30 * 60 * 1000;

interface Planned {
  group: FingerprintGroup;
  settings: DatabaseSettings;
  backend: DatabaseBackend;
  name: string;
  lock?: HeldLock;
  action?: "built" | "reused";
  /** This run created it (and, without --keepdb, drops it at the end). */
  created: boolean;
  /** Recorded complete by this run. */
  completed?: boolean;
  snapshot?: "restored" | "saved";
}

export class TemplateSet {
  /** Orphans and stale templates dropped while building, for the event log. */
  readonly dropped: SweepAction[] = [];
  /** serialized_rollback contents per alias, from the bridge's setup. */
  serialized: Record<string, string> = {};
  /** The project's signal receivers the bridge's setup connected (workers forked before lack them). */
  receivers: string[] = [];

  constructor(
    readonly templates: Template[],
    /** Every alias that points at a template: primaries, mirrors and same-signature aliases. */
    readonly byAlias: Record<string, Template>,
    private readonly planned: Planned[],
    private readonly options: TemplateOptions,
  ) {}

  get reports(): TemplateReport[] {
    return this.templates.map((t) => ({
      alias: t.alias,
      name: t.name,
      hash: t.hash,
      action: t.action,
      migrations: t.migrations,
      ...(t.snapshot ? { snapshot: t.snapshot } : {}),
    }));
  }

  /** Lets other runs use the templates (called once this run's clones exist). */
  async unlock(): Promise<void> {
    await Promise.allSettled(this.planned.map((p) => p.lock?.release()));
    for (const p of this.planned) p.lock = undefined;
  }

  /**
   * End of run. With --keepdb every template stays (recorded as kept). Otherwise a template
   * this run owns is released and dropped unless another live run still uses clones of it; a
   * template another (finished) run left is dropped on the same terms.
   */
  async finish(keepdb: boolean): Promise<void> {
    await this.unlock();
    if (keepdb) return;
    for (const p of this.planned) {
      if (p.settings.vendor === "sqlite") continue; // the run's work directory goes as a whole
      try {
        if (p.created && p.action) {
          await p.backend.writeRecord(p.name, record(p.group.hash, { complete: true, kept: false, owner: null }));
        }
        // Without --keepdb nothing of this template's family outlives the run, not even clones
        // an earlier --keepdb run kept (as Django destroys a kept test database); clones a live
        // run is using are still left alone.
        this.dropped.push(...(await sweepFamily(p.backend, p.name, { waitMs: 10_000, all: true })));
      } catch (error) {
        this.options.log(`django-concurrent-test: could not drop template "${p.name}": ${(error as Error).message}\n`);
      }
    }
  }
}

function record(hash: string, fields: Pick<DatabaseRecord, "complete" | "kept" | "owner">): DatabaseRecord {
  return { role: "template", hash, ...fields };
}

export function templateNameFor(group: FingerprintGroup, workDir: string): string {
  return group.vendor === "sqlite"
    ? sqliteTemplateName(workDir, group.alias, group.hash)
    : serverTemplateName(group.vendor, group.testName, group.hash);
}

/** One template per fingerprint group, on the backend of its alias (nothing created yet). */
function planTemplates(options: TemplateOptions, groups: FingerprintGroup[]): Planned[] {
  return groups.map((group) => {
    const db = options.settings.databases[group.alias]!;
    const backend = options.registry.get({
      settings: db,
      policy: options.policy,
      concurrency: options.concurrency,
      options: options.backendOptions,
    });
    return { group, settings: db, backend, name: templateNameFor(group, options.workDir), created: false };
  });
}

/** Locks in name order, so two runs needing the same templates never deadlock. */
async function lockInOrder(planned: Planned[], options: TemplateOptions): Promise<void> {
  for (const p of [...planned].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    p.lock = await p.backend.lock(
      p.name,
      () => options.log(`Waiting for another run to finish building ${shown(p)}...\n`),
      options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    );
  }
}

/** Under the locks: each template reused or started, then migrated by the bridge, then recorded. */
async function migrate(planned: Planned[], options: TemplateOptions): Promise<DatabasesReady> {
  const plan: Record<string, TemplateStep> = {};
  for (const p of planned) plan[p.group.alias] = await prepare(p, options);
  const testNames = Object.fromEntries(
    planned.filter((p) => p.settings.vendor === "sqlite").map((p) => [p.group.alias, p.name]),
  );
  const ready = await options.bridge.setupDatabases(options.keepdb, testNames, plan);
  const owner = options.keepdb ? null : currentOwner();
  for (const p of planned) {
    if (p.action !== "built") continue;
    // Complete only now: migrations and post_migrate finished.
    await p.backend.writeRecord(p.name, record(p.group.hash, { complete: true, kept: options.keepdb, owner }));
    p.completed = true;
    const context = snapshotContext(options);
    if (context && (await saveSnapshot(snapshotTarget(p), context))) p.snapshot = "saved";
  }
  return ready;
}

/** The set's templates, and every alias the bridge's setup pointed at one of them. */
function collect(set: TemplateSet, planned: Planned[], ready: DatabasesReady, options: TemplateOptions): void {
  const byName = new Map<string, Template>();
  for (const p of planned) {
    const template: Template = {
      alias: p.group.alias,
      vendor: p.settings.vendor,
      name: p.name,
      inMemory: p.group.inMemory,
      settings: p.settings,
      hash: p.group.hash,
      action: p.action!,
      migrations: ready.migrations?.[p.group.alias] ?? 0,
      backend: p.backend,
      ...(p.snapshot ? { snapshot: p.snapshot } : {}),
    };
    set.templates.push(template);
    byName.set(p.name, template);
    if (options.verbosity >= 2) {
      options.log(
        `Template for alias '${template.alias}': ${template.name} (hash ${template.hash}, ${template.action}, ${template.migrations} migrations)\n`,
      );
    }
  }
  set.serialized = ready.serialized ?? {};
  set.receivers = ready.receivers ?? [];
  // Mirrors and same-signature aliases carry the template's name after the bridge's setup.
  for (const [alias, state] of Object.entries(ready.aliases)) {
    const template = byName.get(state.name);
    if (template) set.byAlias[alias] = template;
  }
}

export async function buildTemplates(options: TemplateOptions): Promise<TemplateSet> {
  const fingerprint = await options.bridge.fingerprint(options.usedAliases);
  const planned = planTemplates(options, fingerprint.groups);
  const set = new TemplateSet([], {}, planned, options);
  // Orphans first: databases of killed runs on every server this run uses.
  const servers = new Set(planned.filter((p) => p.settings.vendor !== "sqlite").map((p) => p.backend));
  for (const backend of servers) set.dropped.push(...(await sweepOrphans(backend, "test_")));
  try {
    await lockInOrder(planned, options);
    const ready = await migrate(planned, options);
    for (const p of planned) {
      const parsed = parseEngineName(p.settings.vendor, p.name)!;
      set.dropped.push(...(await dropStaleTemplates(p.backend, parsed.base, parsed.hash)));
    }
    collect(set, planned, ready, options);
    return set;
  } catch (error) {
    // A template this run began and did not finish is dropped rather than left for a sweep.
    for (const p of planned) {
      if (p.created && (!p.completed || !options.keepdb)) await p.backend.dropDatabase(p.name).catch(() => undefined);
    }
    await set.unlock();
    throw error;
  }
}

function shown(p: Planned): string {
  return `the test database for alias '${p.group.alias}' (${path.basename(p.name)})`;
}

/** Under the template's lock: reuse a complete template of this hash, or start a new one. */
async function prepare(p: Planned, options: TemplateOptions): Promise<TemplateStep> {
  const existing = (await p.backend.listDatabases(p.name)).find((db) => db.name === p.name);
  const rec = existing?.record;
  if (existing && rec && rec.role === "template" && rec.complete && rec.hash === p.group.hash && !options.rebuild) {
    p.action = "reused";
    if (options.keepdb && !rec.kept) await p.backend.writeRecord(p.name, { ...rec, kept: true, owner: null });
    return { name: p.name, action: "reuse" };
  }
  if (existing) {
    if (!rec && !parseEngineName(p.settings.vendor, p.name)) {
      throw new DatabaseTemplateException(
        `"${p.name}" exists and was not made by django-concurrent-test; refusing to drop it`,
      );
    }
    // Incomplete (a killed build), or --rebuild-templates.
    await p.backend.dropDatabase(p.name);
  }
  const create = (): Promise<void> =>
    p.backend.createDatabase(p.name, record(p.group.hash, { complete: false, kept: false, owner: currentOwner() }));
  await create();
  p.created = true;
  if (await restoredFromSnapshot(p, options, create)) return { name: p.name, action: "reuse" };
  p.action = "built";
  return { name: p.name, action: "build" };
}

/** Snapshots on: the new, empty template filled from its snapshot and recorded complete. */
async function restoredFromSnapshot(
  p: Planned,
  options: TemplateOptions,
  create: () => Promise<void>,
): Promise<boolean> {
  const context = options.rebuild ? null : snapshotContext(options);
  const restored = context ? await restoreFromSnapshot(snapshotTarget(p), context) : "absent";
  if (restored === "failed") {
    // Nothing half-restored is ever migrated into: a new empty database.
    await p.backend.dropDatabase(p.name);
    await create();
  }
  if (restored !== "restored") return false;
  const owner = options.keepdb ? null : currentOwner();
  await p.backend.writeRecord(p.name, record(p.group.hash, { complete: true, kept: options.keepdb, owner }));
  p.completed = true;
  p.action = "reused";
  p.snapshot = "restored";
  return true;
}

function snapshotContext(options: TemplateOptions): SnapshotContext | null {
  return options.snapshotDir ? { dir: options.snapshotDir, verbosity: options.verbosity, log: options.log } : null;
}

function snapshotTarget(p: Planned): SnapshotTarget {
  return { alias: p.group.alias, vendor: p.settings.vendor, name: p.name, hash: p.group.hash, backend: p.backend };
}

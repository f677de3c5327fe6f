// `django-concurrent-test cleanup`: drops what killed runs left behind on the project's database
// servers (and their SQLite work directories). Only databases with the engine's names and
// records, whose owner process is gone, are dropped; --all also drops the template cache
// (templates and clones kept by --keepdb, and the template snapshot files). Databases a live run
// owns are never touched.
import { addProjectOptions, projectEnv, type ProjectFlags } from "./project-options.ts";
import type { Command } from "commander";
import { BridgeClient } from "../bridge/client.ts";
import { parseServerName, serverTemplateName } from "../databases/naming.ts";
import { BUSY, findFamilies, sweepFamily, type SweepAction } from "../databases/sweep.ts";
import { parseSettingsConfig } from "../config/settings-config.ts";
import type { DatabaseBackend } from "../databases/backend.ts";
import { BackendRegistry, CLONEABLE_VENDORS } from "../databases/index.ts";
import { ConcurrentTestError, EXIT } from "../core/errors.ts";
import type { ProjectSettings } from "../protocol/messages.ts";
import { checkHosts } from "../safety/hosts.ts";
import { namePolicy, type NamePolicy } from "../safety/names.ts";
import { projectKey, sweepRunDirs, workRoot } from "../databases/work-dirs.ts";
import { removeSnapshots, snapshotsDir } from "../databases/snapshots.ts";
import { TIMINGS_DIR } from "../scheduling/timings.ts";
import { existsSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { removeOrphanedPoolDirs } from "../workers/pool-dirs.ts";

export interface CleanupOptions {
  /** Also drop the template cache (what --keepdb kept). */
  all: boolean;
  /** Only say what would be dropped. */
  dryRun: boolean;
  verbosity: number;
  env: NodeJS.ProcessEnv;
  write: (text: string) => void;
}

/** Sweeps every server the settings name; returns the exit status (1 if a drop failed). */
export async function cleanupServers(settings: ProjectSettings, cwd: string, options: CleanupOptions): Promise<number> {
  const config = parseSettingsConfig(settings.concurrentTestConfig);
  checkHosts(settings, config.allowed_hosts ?? [], options.env);
  const policy = namePolicy(config.production_patterns, config.test_patterns);
  const registry = new BackendRegistry();
  let actions: SweepAction[] = [];
  try {
    for (const [backend, bases] of projectServers(settings, policy, registry))
      actions = actions.concat(await sweepServer(backend, bases, options));
  } finally {
    await registry.close();
  }
  const failed = reportActions(actions, options);
  let removed = options.dryRun ? 0 : removeWorkDirs(cwd, settings, options);
  if (options.dryRun) listWorkDirs(cwd, settings, options);
  removed += await removeProjectSnapshots(cwd, options);
  if (options.verbosity >= 1 && !options.dryRun && removed === 0 && !actions.some((a) => a.dropped))
    options.write("nothing to drop\n");
  return failed > 0 ? EXIT.testsFailed : EXIT.ok;
}

/** Each server the settings name, with the template bases of this project's aliases on it. */
function projectServers(
  settings: ProjectSettings,
  policy: NamePolicy,
  registry: BackendRegistry,
): Map<DatabaseBackend, Set<string>> {
  const servers = new Map<DatabaseBackend, Set<string>>();
  for (const db of Object.values(settings.databases)) {
    if (db.vendor === "sqlite" || db.test.mirror || !CLONEABLE_VENDORS.includes(db.vendor)) continue;
    const backend = registry.get({ settings: db, policy, concurrency: 1 });
    const bases = servers.get(backend) ?? new Set<string>();
    const testName = db.test.name ?? (db.name ? `test_${db.name}` : null);
    if (testName) bases.add(parseServerName(serverTemplateName(db.vendor, testName, "0".repeat(64)))!.base);
    servers.set(backend, bases);
  }
  return servers;
}

/**
 * Every family of the engine's on one server, judged once: orphans anywhere ("test_…"), and
 * with --all this project's cached templates too. One verdict per database, so a kept one is
 * listed once, with what happens to it.
 */
async function sweepServer(
  backend: DatabaseBackend,
  bases: Set<string>,
  options: CleanupOptions,
): Promise<SweepAction[]> {
  const families = new Map<string, string>();
  const prefixes = ["test_", ...(options.all ? [...bases].map((base) => base + "_") : [])];
  for (const prefix of prefixes)
    for (const family of await findFamilies(backend, prefix)) families.set(family.template, family.base);
  const actions: SweepAction[] = [];
  for (const [template, base] of families) {
    const all = options.all && bases.has(base);
    // A run killed a moment ago may still hold the family's lock until the server notices.
    const sweep = { all, dryRun: options.dryRun, reportKept: true, waitMs: BUSY_LOCK_WAIT_MS };
    actions.push(...(await sweepFamily(backend, template, sweep)));
  }
  return actions;
}

/** How long cleanup waits for a family's lock before leaving it to the run that holds it. */
const BUSY_LOCK_WAIT_MS = 5_000;

/** One line per database; returns how many drops failed. */
function reportActions(actions: SweepAction[], options: CleanupOptions): number {
  let failed = 0;
  for (const action of actions) {
    if (action.error) {
      failed++;
      options.write(`could not drop ${action.name} (${action.reason}): ${action.error}\n`);
    } else if (action.dropped) {
      options.write(`dropped ${action.name}: ${action.reason}\n`);
    } else if (options.dryRun && action.drop) {
      options.write(`would drop ${action.name}: ${action.reason}\n`);
    } else if (options.verbosity >= 2 || options.dryRun || action.reason === BUSY) {
      options.write(`left ${action.name}: ${action.reason}\n`);
    }
  }
  return failed;
}

/** Private directories of killed runs (SQLite's work directories, the workers' pool folders),
 * and with --all this project's SQLite cache. Returns how many were removed; only a directory
 * that existed and is gone is reported. */
function removeWorkDirs(cwd: string, settings: ProjectSettings, options: CleanupOptions): number {
  const removed = [...sweepRunDirs(workRoot()), ...removeOrphanedPoolDirs(os.tmpdir())];
  for (const dir of removed) options.write(`removed ${dir}: its run is gone\n`);
  const cache = options.all ? projectCacheDir(cwd, settings) : undefined;
  if (!cache || !existsSync(cache)) return removed.length;
  rmSync(cache, { recursive: true, force: true });
  if (existsSync(cache)) return removed.length;
  options.write(`removed ${cache}: the SQLite template cache\n`);
  return removed.length + 1;
}

/** --dry-run --all: the SQLite cache that would go, if there is one. */
function listWorkDirs(cwd: string, settings: ProjectSettings, options: CleanupOptions): void {
  const cache = options.all ? projectCacheDir(cwd, settings) : undefined;
  if (cache && existsSync(cache)) options.write(`would remove ${cache}: the SQLite template cache\n`);
}

/** --all: the project's template snapshot files (with --dry-run only named); 1 if removed. */
async function removeProjectSnapshots(cwd: string, options: CleanupOptions): Promise<number> {
  const dir = snapshotsDir(path.join(cwd, TIMINGS_DIR));
  if (!options.all || !existsSync(dir)) return 0;
  if (options.dryRun) {
    options.write(`would remove ${dir}: the template snapshots\n`);
    return 0;
  }
  await removeSnapshots(dir);
  options.write(`removed ${dir}: the template snapshots\n`);
  return 1;
}

function projectCacheDir(cwd: string, settings: ProjectSettings): string {
  return path.join(workRoot(), projectKey(cwd, settings.settingsModule));
}

interface CleanupFlags extends ProjectFlags {
  python: string;
  all?: boolean;
  dryRun?: boolean;
  verbosity?: number;
}

export function addCleanupCommand(program: Command): void {
  addProjectOptions(
    program
      .command("cleanup")
      .description("drop the test databases killed runs left behind (--all: also the template cache)"),
  )
    .option("--all", "also drop templates and clones kept for reuse (--keepdb) and the template snapshots")
    .option("--dry-run", "only list what would be dropped")
    .option("-v, --verbosity <n>", "0, 1 or 2 (2 lists what is left alone)", (v: string) => Number(v), 1)
    .action(async (flags: CleanupFlags) => {
      const env = projectEnv(flags);
      const write = (text: string): void => void process.stderr.write(`cleanup: ${text}`);
      const bridge = BridgeClient.spawn(flags.python, env);
      try {
        const hello = await bridge.hello();
        await bridge.close();
        process.exitCode = await cleanupServers(hello.settings, hello.cwd, {
          all: flags.all === true,
          dryRun: flags.dryRun === true,
          verbosity: flags.verbosity ?? 1,
          env,
          write,
        });
      } catch (error) {
        await bridge.close().catch(() => undefined);
        write(`${(error as Error).message}\n`);
        process.exitCode = error instanceof ConcurrentTestError ? error.exitCode : EXIT.testsFailed;
      }
    });
}

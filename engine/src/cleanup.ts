// `django-concurrent-test cleanup`: drops what killed runs left behind on the project's database
// servers (and their SQLite work directories). Only databases with the engine's names and
// records, whose owner process is gone, are dropped; --all also drops the template cache
// (templates and clones kept by --keepdb). Databases a live run owns are never touched.
import { addProjectOptions, projectEnv, type ProjectFlags } from "./project-options.ts";
import type { Command } from "commander";
import { BridgeClient } from "./bridge/client.ts";
import { parseServerName, serverTemplateName } from "./cache/naming.ts";
import { dropStaleTemplates, sweepOrphans, type SweepAction } from "./cache/sweep.ts";
import { parseSettingsConfig } from "./config/settings-config.ts";
import type { DatabaseBackend } from "./db/backend.ts";
import { BackendRegistry, CLONEABLE_VENDORS } from "./db/index.ts";
import { ConcurrentTestError, EXIT } from "./errors.ts";
import type { ProjectSettings } from "./protocol/messages.ts";
import { checkHosts } from "./safety/hosts.ts";
import { namePolicy } from "./safety/names.ts";
import { projectKey, sweepRunDirs, workRoot } from "./templates.ts";
import { rmSync } from "node:fs";
import path from "node:path";

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
  const actions: SweepAction[] = [];
  try {
    // Orphans anywhere on the servers; with --all, also this project's cached templates.
    const servers = new Map<DatabaseBackend, Set<string>>();
    for (const db of Object.values(settings.databases)) {
      if (db.vendor === "sqlite" || db.test.mirror || !CLONEABLE_VENDORS.includes(db.vendor)) continue;
      const backend = registry.get({ settings: db, policy, concurrency: 1 });
      const bases = servers.get(backend) ?? new Set<string>();
      const testName = db.test.name ?? (db.name ? `test_${db.name}` : null);
      if (testName) bases.add(parseServerName(serverTemplateName(db.vendor, testName, "0".repeat(64)))!.base);
      servers.set(backend, bases);
    }
    for (const [backend, bases] of servers) {
      actions.push(
        ...(await sweepOrphans(backend, "test_", {
          dryRun: options.dryRun,
          reportKept: true,
        })),
      );
      if (!options.all) continue;
      for (const base of bases)
        actions.push(
          ...(await dropStaleTemplates(backend, base, "", {
            dryRun: options.dryRun,
            reportKept: true,
          })),
        );
    }
  } finally {
    await registry.close();
  }
  let failed = 0;
  for (const action of actions) {
    if (action.error) {
      failed++;
      options.write(`could not drop ${action.name} (${action.reason}): ${action.error}\n`);
    } else if (action.dropped) {
      options.write(`dropped ${action.name}: ${action.reason}\n`);
    } else if (options.dryRun && action.drop) {
      options.write(`would drop ${action.name}: ${action.reason}\n`);
    } else if (options.verbosity >= 2 || options.dryRun) {
      options.write(`left ${action.name}: ${action.reason}\n`);
    }
  }
  // SQLite: private work directories of killed runs, and with --all this project's cache.
  if (!options.dryRun) {
    for (const dir of sweepRunDirs(workRoot())) options.write(`removed ${dir}: its run is gone\n`);
    if (options.all) {
      const dir = path.join(workRoot(), projectKey(cwd, settings.settingsModule));
      rmSync(dir, { recursive: true, force: true });
      if (options.verbosity >= 2) options.write(`removed ${dir}: the SQLite template cache\n`);
    }
  }
  if (options.verbosity >= 1 && !actions.some((a) => a.dropped) && !options.dryRun) options.write("nothing to drop\n");
  return failed > 0 ? EXIT.testsFailed : EXIT.ok;
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
    .option("--all", "also drop templates and clones kept for reuse (--keepdb)")
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

// Template databases: one migrated test database per alias, built by Django's own creation
// code inside the bridge. SQLite in-memory test databases get a file template instead, which
// each worker loads back into memory.
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { BridgeClient } from "./bridge/client.ts";
import type { DatabaseSettings, ProjectSettings } from "./protocol/messages.ts";

export interface Template {
  /** The alias whose test database this is. */
  alias: string;
  vendor: string;
  /** Database name (or SQLite file path) of the template. */
  name: string;
  /** SQLite whose test database Django would keep in memory. */
  inMemory: boolean;
  settings: DatabaseSettings;
}

export interface TemplateSet {
  templates: Template[];
  /** Every alias that points at a template: primaries, mirrors and same-signature aliases. */
  byAlias: Record<string, Template>;
}

function isMemoryName(name: string | null): boolean {
  return !name || name === ":memory:" || name.includes("mode=memory");
}

/**
 * Where SQLite template files live: per project and stable across runs under --keepdb (so the
 * template is reused), otherwise private to this run (so two runs never share a file).
 */
export function workDirFor(cwd: string, settingsModule: string, keepdb: boolean): string {
  const root = path.join(os.tmpdir(), "django-concurrent-test");
  mkdirSync(root, { recursive: true, mode: 0o700 });
  if (!keepdb) return mkdtempSync(path.join(root, "run-"));
  const key = createHash("sha256").update(`${cwd}\0${settingsModule}`).digest("hex").slice(0, 12);
  const dir = path.join(root, key);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Test database names the engine overrides: SQLite in-memory aliases become template files. */
export function planTestNames(settings: ProjectSettings, aliases: string[], workDir: string): Record<string, string> {
  const names: Record<string, string> = {};
  for (const alias of aliases) {
    const db = settings.databases[alias];
    if (db && db.vendor === "sqlite" && !db.test.mirror && isMemoryName(db.test.name)) {
      names[alias] = path.join(workDir, `test_${alias}.sqlite3`);
    }
  }
  return names;
}

export async function buildTemplates(
  bridge: BridgeClient,
  settings: ProjectSettings,
  usedAliases: string[],
  keepdb: boolean,
  workDir: string,
): Promise<TemplateSet> {
  const testNames = planTestNames(settings, usedAliases, workDir);
  const ready = await bridge.setupDatabases(keepdb, testNames);
  const templates: Template[] = [];
  const byName = new Map<string, Template>();
  for (const [alias, state] of Object.entries(ready.aliases)) {
    if (!state.primary) continue;
    const template: Template = {
      alias,
      vendor: state.vendor,
      name: state.name,
      inMemory: alias in testNames,
      settings: settings.databases[alias]!,
    };
    templates.push(template);
    byName.set(state.name, template);
  }
  // Mirrors and same-signature aliases carry the template's name after Django's setup.
  const byAlias: Record<string, Template> = {};
  for (const [alias, state] of Object.entries(ready.aliases)) {
    const template = byName.get(state.name);
    if (template) byAlias[alias] = template;
  }
  return { templates, byAlias };
}

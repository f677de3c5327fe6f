// The engine's own database names. A template is <test name>_<hash>, a clone <template>_<slot>.
// Only names these patterns produce are ever dropped as stale or orphaned.
import path from "node:path";

/** Hex digits of the template hash carried in names. */
export const HASH_LENGTH = 10;
/** Room kept for the clone suffix: "_" and up to three slot digits. */
export const CLONE_SUFFIX_ROOM = 4;
export const MAX_SLOT = 999;

const LIMITS: Record<string, number> = { postgresql: 63, mysql: 64 };

/** Every template name starts with test_, so the built-in test pattern always accepts it. */
function withTestPrefix(name: string): string {
  return name.toLowerCase().startsWith("test_") ? name : `test_${name}`;
}

/**
 * A server template's name: the alias's test database name, shortened when needed so that
 * name, hash and clone suffix fit the server's limit (63 bytes PostgreSQL, 64 MySQL/MariaDB).
 */
export function serverTemplateName(vendor: string, testName: string, hash: string): string {
  const limit = LIMITS[vendor] ?? 63;
  const tail = `_${hash.slice(0, HASH_LENGTH)}`;
  let base = withTestPrefix(testName);
  while (Buffer.byteLength(base + tail) + CLONE_SUFFIX_ROOM > limit) base = base.slice(0, -1);
  return base + tail;
}

/** A SQLite template file in the run's work directory, named for its alias. */
export function sqliteTemplateName(workDir: string, alias: string, hash: string): string {
  return path.join(workDir, `test_${alias}_${hash.slice(0, HASH_LENGTH)}.sqlite3`);
}

export function serverCloneName(template: string, slot: number): string {
  return `${template}_${slot}`;
}

/** Django's own rule for a SQLite clone's file name: <root>_<suffix><ext>. */
export function sqliteCloneName(template: string, slot: number): string {
  const match = /^(.*?)(\.[^./]*)?$/.exec(template);
  const root = match?.[1] ?? template;
  const ext = match?.[2] ?? "";
  return `${root}_${slot}${ext}`;
}

export interface ParsedName {
  /** The template this name belongs to (itself for a template). */
  template: string;
  /** The part before the hash: templates of one alias share it across hashes. */
  base: string;
  hash: string;
  /** The clone slot, or null for a template. */
  slot: number | null;
}

const SERVER_NAME = new RegExp(`^(test_.*)_([0-9a-f]{${HASH_LENGTH}})(?:_([1-9]\\d{0,2}))?$`);

/** Parses a server database name the engine's patterns produce; null for any other name. */
export function parseServerName(name: string): ParsedName | null {
  const m = SERVER_NAME.exec(name);
  if (!m) return null;
  const template = `${m[1]}_${m[2]}`;
  return {
    template,
    base: m[1]!,
    hash: m[2]!,
    slot: m[3] ? Number(m[3]) : null,
  };
}

const SQLITE_NAME = new RegExp(`^(test_.*)_([0-9a-f]{${HASH_LENGTH}})(?:_([1-9]\\d{0,2}))?\\.sqlite3$`);

/** The same for a SQLite file path (the template and clones share one directory). */
export function parseSqliteName(file: string): ParsedName | null {
  const m = SQLITE_NAME.exec(path.basename(file));
  if (!m) return null;
  const dir = path.dirname(file);
  return {
    template: path.join(dir, `${m[1]}_${m[2]}.sqlite3`),
    base: path.join(dir, m[1]!),
    hash: m[2]!,
    slot: m[3] ? Number(m[3]) : null,
  };
}

export function parseEngineName(vendor: string, name: string): ParsedName | null {
  return vendor === "sqlite" ? parseSqliteName(name) : parseServerName(name);
}

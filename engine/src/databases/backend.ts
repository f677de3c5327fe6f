// One interface for every database statement the engine issues. Only the backends here write
// SQL; each validates names against the safety policy and quotes with the driver's escaping.
// One class per backend (postgres.ts, mysql.ts, sqlite.ts) implements it.
import type { Readable, Writable } from "node:stream";
import type { DatabaseRecord } from "./records.ts";
import type { DatabaseSettings } from "../protocol/messages.ts";
import type { NamePolicy } from "../safety/names.ts";

/** A database on the server whose name starts with the asked prefix, with its record. */
export interface ExistingDatabase {
  name: string;
  /** Null when the database carries no record of ours. */
  record: DatabaseRecord | null;
}

/** A server-wide named lock (advisory lock, GET_LOCK, lock file) the engine holds. */
export interface HeldLock {
  release(): Promise<void>;
}

export interface DatabaseBackend {
  readonly vendor: string;
  /** Databases (SQLite: files) whose names start with `prefix`, with their records. */
  listDatabases(prefix: string): Promise<ExistingDatabase[]>;
  /** Create an empty database for a template, with the alias's TEST charset/collation/template. */
  createDatabase(name: string, record: DatabaseRecord): Promise<void>;
  /** Create `clone` as a copy of the migrated `template` (schema and rows), carrying `record`. */
  cloneDatabase(template: string, clone: string, record: DatabaseRecord): Promise<void>;
  /**
   * Make a kept `clone` of `template` that tests wrote to equal the template again, in place,
   * carrying `record`; false when it cannot (then it is copied afresh). Optional: a backend
   * without it always copies.
   */
  repairClone?(template: string, clone: string, record: DatabaseRecord): Promise<boolean>;
  /** Replace a database's record. */
  writeRecord(name: string, record: DatabaseRecord): Promise<void>;
  /** Drop a database the engine created; a missing one is not an error. */
  dropDatabase(name: string): Promise<void>;
  /** Take the named lock, waiting for it; `onWait` is called once if it has to wait. */
  lock(key: string, onWait: () => void, timeoutMs: number): Promise<HeldLock>;
  /** Take the named lock only if it is free now. */
  tryLock(key: string): Promise<HeldLock | null>;
  /** The safety gate's privilege check: what the role lacks to create and drop `names`. */
  missingPrivileges?(names: string[]): Promise<PrivilegeReport>;
  /** How many more connections the server accepts from this role now (each worker needs one). */
  connectionRoom?(): Promise<ConnectionRoom>;
  /** Snapshots (snapshots.ts): the server's kind and major version, which a snapshot must match. */
  snapshotServer?(): Promise<string>;
  /** Write the complete template `name` (schema and rows) into `out`, and end it. */
  dumpDatabase?(name: string, out: Writable): Promise<void>;
  /** Fill the empty database `name` from what dumpDatabase wrote. */
  restoreDatabase?(name: string, input: Readable): Promise<void>;
  close(): Promise<void>;
}

export interface PrivilegeReport {
  /** The role or user as the server names it. */
  role: string;
  /** Privileges the run needs that the role lacks, e.g. ["CREATEDB"]. */
  missing: string[];
  /** The statement that would grant them. */
  grant: string;
}

export interface ConnectionRoom {
  /** The server's max_connections, less what it reserves for superusers when the role is none. */
  limit: number;
  /** Connections open now (any client). */
  inUse: number;
}

export interface BackendContext {
  settings: DatabaseSettings;
  policy: NamePolicy;
  /** Upper bound of statements run at once (one per clone being made). */
  concurrency: number;
  /** Backend options from CONCURRENT_TEST_CONFIG (clone strategy and the like). */
  options?: BackendOptions;
}

export interface BackendOptions {
  /** PostgreSQL 15+: CREATE DATABASE ... STRATEGY for clones. */
  postgresCloneStrategy?: "wal_log" | "file_copy";
  /** PostgreSQL: clones commit without waiting for WAL flush (they are thrown away). */
  postgresSynchronousCommit?: boolean;
}

/** Polls `attempt` until it yields a lock or `timeoutMs` passes. */
export async function pollForLock(
  attempt: () => Promise<HeldLock | null>,
  onWait: () => void,
  timeoutMs: number,
  what: string,
): Promise<HeldLock> {
  const deadline = Date.now() + timeoutMs;
  let waited = false;
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    const held = await attempt();
    if (held) return held;
    if (!waited) onWait();
    waited = true;
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

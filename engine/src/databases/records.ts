// The record the engine writes on every database it creates: what it is (template or clone),
// the hash of what decided its contents, whether it is complete, and who owns it. Servers keep
// it with the database itself (a PostgreSQL or MariaDB database comment, a table on MySQL 8, a
// sidecar file for SQLite), so it vanishes with the database and never drifts from it.

/** The process that created (or holds) a database. */
export interface Owner {
  pid: number;
  host: string;
  /** When the owning process started, in milliseconds since the epoch. */
  started: number;
}

export interface DatabaseRecord {
  role: "template" | "clone";
  /** The template's hash (migrations, apps, settings, versions): also in the name. */
  hash: string;
  /** Templates: migrations and post_migrate finished. Clones: every object and row copied. */
  complete: boolean;
  /** Kept for later runs (--keepdb): owned by nobody, never an orphan. */
  kept: boolean;
  owner: Owner | null;
  /**
   * Kept clones: nothing but rolled-back TestCase transactions ran on it, so it still equals
   * its template and the next --keepdb run may use it as it is.
   */
  clean?: boolean;
}

/** Every record starts with this, so a foreign comment is never mistaken for one of ours. */
export const RECORD_PREFIX = "django-concurrent-test ";

export function encodeRecord(record: DatabaseRecord): string {
  return RECORD_PREFIX + JSON.stringify(record);
}

/** The record in a comment, or null when the comment is not one of ours. */
export function decodeRecord(text: string | null | undefined): DatabaseRecord | null {
  if (!text || !text.startsWith(RECORD_PREFIX)) return null;
  try {
    const value = JSON.parse(text.slice(RECORD_PREFIX.length)) as Partial<DatabaseRecord>;
    if ((value.role !== "template" && value.role !== "clone") || typeof value.hash !== "string") return null;
    const owner = value.owner;
    const validOwner =
      owner === null ||
      (typeof owner === "object" &&
        typeof owner.pid === "number" &&
        typeof owner.host === "string" &&
        typeof owner.started === "number");
    if (!validOwner) return null;
    return {
      role: value.role,
      hash: value.hash,
      complete: value.complete === true,
      kept: value.kept === true,
      owner: owner ?? null,
      clean: value.clean === true,
    };
  } catch {
    return null;
  }
}

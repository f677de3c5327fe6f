// SQLite: a clone is a copy of the template file (copy-on-write where the filesystem can).
// In-memory test databases need no file clone: each worker loads the template into memory.
// Records are sidecar files (<db>.dct.json); a template is complete only when, besides its
// record, its own header carries the application id the bridge sets after post_migrate. A
// snapshot's payload is the template file.
import { constants, createReadStream, createWriteStream, openSync, readSync, closeSync } from "node:fs";
import { copyFile, readdir, readFile, rename, rm, writeFile, open } from "node:fs/promises";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { decodeRecord, encodeRecord, type DatabaseRecord, type Owner } from "./records.ts";
import { currentOwner, ownerLiveness } from "./owner.ts";
import { assertTestDatabaseName } from "../safety/names.ts";
import {
  pollForLock,
  type BackendContext,
  type DatabaseBackend,
  type ExistingDatabase,
  type HeldLock,
} from "./backend.ts";

/** "DCT1": PRAGMA application_id of a finished template (the bridge writes it). */
export const COMPLETE_APPLICATION_ID = 0x44435431;

const recordPath = (db: string): string => `${db}.dct.json`;
const lockPath = (db: string): string => `${db}.lock`;

/** The application id in a SQLite file's header (bytes 68-71), or null if unreadable. */
export function applicationId(file: string): number | null {
  try {
    const fd = openSync(file, "r");
    try {
      const header = Buffer.alloc(72);
      if (readSync(fd, header, 0, 72, 0) < 72) return null;
      return header.readUInt32BE(68);
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
}

export class SqliteBackend implements DatabaseBackend {
  readonly vendor = "sqlite";
  constructor(private readonly ctx: BackendContext) {}

  private check(name: string): void {
    assertTestDatabaseName(name, this.vendor, this.ctx.policy);
  }

  async listDatabases(prefix: string): Promise<ExistingDatabase[]> {
    const dir = path.dirname(prefix);
    const start = path.basename(prefix);
    const entries = await readdir(dir).catch(() => [] as string[]);
    const result: ExistingDatabase[] = [];
    for (const entry of entries.sort()) {
      if (!entry.startsWith(start) || !entry.endsWith(".sqlite3")) continue;
      const name = path.join(dir, entry);
      result.push({ name, record: await this.readRecord(name) });
    }
    return result;
  }

  private async readRecord(name: string): Promise<DatabaseRecord | null> {
    const record = decodeRecord(await readFile(recordPath(name), "utf8").catch(() => null));
    if (record?.role === "template" && record.complete && applicationId(name) !== COMPLETE_APPLICATION_ID) {
      return { ...record, complete: false };
    }
    return record;
  }

  /** Django's creation makes the file; the engine only records who is making it. */
  async createDatabase(name: string, record: DatabaseRecord): Promise<void> {
    this.check(name);
    await this.dropDatabase(name);
    await this.writeRecord(name, record);
  }

  async cloneDatabase(template: string, clone: string, record: DatabaseRecord): Promise<void> {
    this.check(template);
    this.check(clone);
    await this.writeRecord(clone, { ...record, complete: false });
    await copyFile(template, clone, constants.COPYFILE_FICLONE);
    await this.writeRecord(clone, record);
  }

  async writeRecord(name: string, record: DatabaseRecord): Promise<void> {
    this.check(name);
    const temporary = `${recordPath(name)}.${process.pid}.tmp`;
    await writeFile(temporary, encodeRecord(record), { mode: 0o600 });
    await rename(temporary, recordPath(name));
  }

  async dropDatabase(name: string): Promise<void> {
    this.check(name);
    for (const suffix of ["", "-journal", "-wal", "-shm"]) await rm(name + suffix, { force: true });
    await rm(recordPath(name), { force: true });
  }

  async snapshotServer(): Promise<string> {
    return "SQLite";
  }

  /** A SQLite snapshot's payload is the template file itself. */
  async dumpDatabase(name: string, out: Writable): Promise<void> {
    this.check(name);
    await pipeline(createReadStream(name), out);
  }

  /** The file written beside the template and renamed: a finished template or no file. */
  async restoreDatabase(name: string, input: Readable): Promise<void> {
    this.check(name);
    const temporary = `${name}.${process.pid}.restore`;
    try {
      await pipeline(input, createWriteStream(temporary, { mode: 0o600 }));
      if (applicationId(temporary) !== COMPLETE_APPLICATION_ID) throw new Error("it is not a finished template");
      await rename(temporary, name);
    } finally {
      await rm(temporary, { force: true });
    }
  }

  /** A lock file created exclusively; one left by a process that is gone is taken over. */
  async tryLock(name: string): Promise<HeldLock | null> {
    const file = lockPath(name);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(file, "wx", 0o600);
        await handle.writeFile(JSON.stringify(currentOwner()));
        await handle.close();
        return { release: () => rm(file, { force: true }) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        const holder = await readFile(file, "utf8")
          .then((t) => JSON.parse(t) as Owner)
          .catch(() => null);
        if (holder && ownerLiveness(holder) !== "gone") return null;
        if (!holder && attempt === 0) {
          await new Promise((r) => setTimeout(r, 50)); // being written right now
          continue;
        }
        await rm(file, { force: true });
      }
    }
    return null;
  }

  lock(name: string, onWait: () => void, timeoutMs: number): Promise<HeldLock> {
    return pollForLock(() => this.tryLock(name), onWait, timeoutMs, `the lock file ${lockPath(name)}`);
  }

  async close(): Promise<void> {}
}

// SQLite: a clone is a copy of the template file (copy-on-write where the filesystem can).
// In-memory test databases need no file clone: each worker loads the template into memory.
import { constants } from "node:fs";
import { copyFile, rm } from "node:fs/promises";
import { assertTestDatabaseName } from "../safety/names.ts";
import type { BackendContext, DatabaseBackend } from "./backend.ts";

export class SqliteBackend implements DatabaseBackend {
  readonly vendor = "sqlite";
  constructor(private readonly ctx: BackendContext) {}

  async cloneDatabase(template: string, clone: string): Promise<void> {
    assertTestDatabaseName(template, this.vendor, this.ctx.policy);
    assertTestDatabaseName(clone, this.vendor, this.ctx.policy);
    await copyFile(template, clone, constants.COPYFILE_FICLONE);
  }

  async dropDatabase(name: string): Promise<void> {
    assertTestDatabaseName(name, this.vendor, this.ctx.policy);
    for (const suffix of ["", "-journal", "-wal", "-shm"]) await rm(name + suffix, { force: true });
  }

  async close(): Promise<void> {}
}

/** Django's own rule for a SQLite clone's file name: <root>_<suffix><ext>. */
export function sqliteCloneName(template: string, slot: number): string {
  const match = /^(.*?)(\.[^./]*)?$/.exec(template);
  const root = match?.[1] ?? template;
  const ext = match?.[2] ?? "";
  return `${root}_${slot}${ext}`;
}

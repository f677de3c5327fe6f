// Real database servers for the database backend tests. An unreachable server skips its tests with a loud
// message, except under CI=true, where it fails them.
import os from "node:os";
import { spawnSync } from "node:child_process";
import { currentOwner } from "../../src/databases/owner.ts";
import type { DatabaseRecord, Owner } from "../../src/databases/records.ts";
import type { DatabaseSettings } from "../../src/protocol/messages.ts";

export const SUFFIX = process.env.EXAMPLE_DB_SUFFIX ?? "";

export function serverSettings(vendor: "postgresql" | "mysql"): DatabaseSettings {
  return {
    engine: vendor === "mysql" ? "django.db.backends.mysql" : "django.db.backends.postgresql",
    name: null,
    user: vendor === "mysql" ? "root" : "postgres",
    password: null,
    host: "127.0.0.1",
    port: vendor === "mysql" ? 3306 : 5432,
    vendor,
    test: {
      name: null,
      mirror: null,
      dependencies: null,
      charset: null,
      collation: null,
      template: null,
    },
  };
}

/** Resolves to a skip reason (or throws under CI) when `probe` cannot reach the server. */
export async function reachable(name: string, probe: () => Promise<unknown>): Promise<string | false> {
  try {
    await probe();
    return false;
  } catch (error) {
    const why = `${name.toUpperCase()} SERVER UNREACHABLE, ITS TESTS ARE SKIPPED: ${(error as Error).message}`;
    if (process.env.CI === "true") throw new Error(`${name} is required when CI=true: ${why}`);
    process.stderr.write(`\n!!! ${why}\n`);
    return why;
  }
}

/** A random ten-digit hash, so concurrent test runs never share names. */
export function randomHash(): string {
  return Array.from({ length: 10 }, () => "0123456789abcdef"[Math.floor(Math.random() * 16)]).join("");
}

/** An owner whose process has exited. */
export function deadOwner(): Owner {
  const child = spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" });
  return {
    pid: Number(child.stdout.trim()),
    host: os.hostname(),
    started: Date.now() - 1000,
  };
}

/** A clone's record owned by this process, with `fields` changed. */
export function cloneRecord(fields: Partial<DatabaseRecord> = {}): DatabaseRecord {
  return { role: "clone", hash: "h", complete: true, kept: false, owner: currentOwner(), ...fields };
}

// A measured sequential run, for --benchmark's "faster than sequential". A `--workers=1
// --benchmark` run (the runner's own process as the only worker) stores its wall time
// in <project>/.django-concurrent-test/sequential.json under a key made of its databases (alias,
// vendor, backend, host and port) and the exact test ids it ran; a concurrent run of the same
// tests on the same databases compares with it instead of an estimate.
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { DatabaseSettings } from "../protocol/messages.ts";
import type { RunResults } from "../results/run-results.ts";

export const BASELINE_FILE = path.join(".django-concurrent-test", "sequential.json");

export interface SequentialBaseline {
  seconds: number;
  tests: number;
  measured: string;
}

/** The databases' part of the key: a baseline measured on one backend or server says nothing
 * about another (a SQLite run is no baseline for PostgreSQL). */
export function databaseLines(
  databases: Record<string, Pick<DatabaseSettings, "vendor" | "engine" | "host" | "port">>,
): string[] {
  return Object.keys(databases)
    .sort(byCodeUnit)
    .map((alias) => {
      const db = databases[alias]!;
      return `database ${alias} ${db.vendor} ${db.engine} ${db.host ?? ""}:${db.port ?? ""}`;
    });
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** sha256 of the database lines, then the sorted test ids, joined by newlines; 16 hex digits. */
export function selectionKeyOf(testIds: Iterable<string>, databases: Parameters<typeof databaseLines>[0]): string {
  const lines = [...databaseLines(databases), ...[...testIds].sort(byCodeUnit)];
  return createHash("sha256").update(lines.join("\n")).digest("hex").slice(0, 16);
}

/** The key of the tests this run selected (this shard's only, when sharded) on its databases. */
export function selectionKey(results: RunResults, databases: Parameters<typeof databaseLines>[0]): string {
  const mine = results.shard ? new Set(results.shard.indices) : undefined;
  const classes = results.classList.filter((c) => !mine || mine.has(c.index));
  return selectionKeyOf(
    classes.flatMap((c) => c.tests.map((t) => t.id)),
    databases,
  );
}

export async function loadSequentialBaseline(projectDir: string, key: string): Promise<SequentialBaseline | null> {
  try {
    const data = JSON.parse(await readFile(path.join(projectDir, BASELINE_FILE), "utf8")) as {
      version?: number;
      selections?: Record<string, Partial<SequentialBaseline>>;
    };
    const entry = data.version === 1 ? data.selections?.[key] : undefined;
    if (entry && typeof entry.seconds === "number" && typeof entry.tests === "number") {
      return {
        seconds: entry.seconds,
        tests: entry.tests,
        measured: String(entry.measured ?? ""),
      };
    }
  } catch {
    // No baseline (or an unreadable one): the summary estimates instead.
  }
  return null;
}

/** Stores a sequential run's wall time under its selection's key; false when it cannot be written. */
export async function storeSequentialBaseline(
  projectDir: string,
  key: string,
  baseline: SequentialBaseline,
): Promise<boolean> {
  const file = path.join(projectDir, BASELINE_FILE);
  let selections: Record<string, unknown> = {};
  try {
    const data = JSON.parse(await readFile(file, "utf8")) as { version?: number; selections?: unknown };
    if (data.version === 1 && typeof data.selections === "object" && data.selections !== null)
      selections = data.selections as Record<string, unknown>;
  } catch {
    // None yet, or unreadable: start afresh.
  }
  selections[key] = baseline;
  const temp = `${file}.${process.pid}.tmp`;
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(temp, JSON.stringify({ version: 1, selections }, null, 1) + "\n");
    await rename(temp, file);
    return true;
  } catch {
    return false; // a read-only checkout only loses the baseline
  }
}

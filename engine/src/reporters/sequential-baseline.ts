// A measured sequential run, for --benchmark's "faster than sequential". A `--workers=1
// --benchmark` run (Django's own sequential runner, through the adapter) stores its wall time
// in <project>/.django-concurrent-test/sequential.json under a key made of the exact test ids it
// ran; a concurrent run of the same tests compares with it instead of an estimate.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { RunResults } from "../results.ts";

export const BASELINE_FILE = path.join(".django-concurrent-test", "sequential.json");

export interface SequentialBaseline {
  seconds: number;
  tests: number;
  measured: string;
}

/** sha256 of the sorted test ids, as python/django_concurrent_test/baseline.py computes it. */
export function selectionKeyOf(testIds: Iterable<string>): string {
  const sorted = [...testIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash("sha256").update(sorted.join("\n")).digest("hex").slice(0, 16);
}

/** The key of the tests this run selected (this shard's only, when sharded). */
export function selectionKey(results: RunResults): string {
  const mine = results.shard ? new Set(results.shard.indices) : undefined;
  const classes = results.classList.filter((c) => !mine || mine.has(c.index));
  return selectionKeyOf(classes.flatMap((c) => c.tests.map((t) => t.id)));
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

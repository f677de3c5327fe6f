// Orphans and stale templates. A database is dropped here only when (1) its name is one the
// engine's patterns produce, (2) its family carries the engine's record, (3) nobody alive owns
// it, and (4) the family's lock is free (no run is building or cloning it right now).
import type { DatabaseBackend, ExistingDatabase } from "./backend.ts";
import { parseEngineName } from "./naming.ts";
import { describeOwner, ownerLiveness } from "./owner.ts";

export interface SweepAction {
  name: string;
  /** Why it was (or would be) dropped, or why it was left. */
  reason: string;
  /** The verdict: orphaned (or, with `all`, cached) and free to drop. */
  drop: boolean;
  dropped: boolean;
  error?: string;
}

export interface SweepOptions {
  /** Also drop what later runs would reuse: kept templates and clones (cleanup --all, stale templates). */
  all?: boolean;
  dryRun?: boolean;
  /** Report what is left alone too (the cleanup command lists it). */
  reportKept?: boolean;
  /** Wait this long for the family's lock (a run's own teardown); otherwise skip a busy family. */
  waitMs?: number;
}

/** Why a family was left alone: its lock is held. */
export const BUSY = "a run is building or cloning it now";

interface Family {
  template: string;
  base: string;
  hash: string;
}

/** Templates (with their clones) of the engine's naming among databases starting with `prefix`. */
export async function findFamilies(backend: DatabaseBackend, prefix: string): Promise<Family[]> {
  const families = new Map<string, Family>();
  for (const db of await backend.listDatabases(prefix)) {
    const parsed = parseEngineName(backend.vendor, db.name);
    if (parsed && !families.has(parsed.template))
      families.set(parsed.template, {
        template: parsed.template,
        base: parsed.base,
        hash: parsed.hash,
      });
  }
  return [...families.values()];
}

/** Orphans among every engine-named database starting with `prefix` ("test_" on a server). */
export async function sweepOrphans(
  backend: DatabaseBackend,
  prefix: string,
  options: SweepOptions = {},
): Promise<SweepAction[]> {
  const actions: SweepAction[] = [];
  for (const family of await findFamilies(backend, prefix))
    actions.push(...(await sweepFamily(backend, family.template, options)));
  return actions;
}

/** Templates of `base` whose hash is not `keepHash`, with their clones, unless still in use. */
export async function dropStaleTemplates(
  backend: DatabaseBackend,
  base: string,
  keepHash: string,
  options: SweepOptions = {},
): Promise<SweepAction[]> {
  const actions: SweepAction[] = [];
  for (const family of await findFamilies(backend, base + "_")) {
    if (family.base !== base || family.hash === keepHash) continue;
    actions.push(
      ...(await sweepFamily(backend, family.template, {
        ...options,
        all: true,
      })),
    );
  }
  return actions;
}

/** Judges one template and its clones under the template's lock. */
export async function sweepFamily(
  backend: DatabaseBackend,
  template: string,
  options: SweepOptions,
): Promise<SweepAction[]> {
  const lock = options.waitMs
    ? await backend.lock(template, () => undefined, options.waitMs).catch(() => null)
    : await backend.tryLock(template);
  if (!lock)
    return options.reportKept
      ? [
          {
            name: template,
            reason: BUSY,
            drop: false,
            dropped: false,
          },
        ]
      : [];
  try {
    const members = (await backend.listDatabases(template)).filter(
      (db) => parseEngineName(backend.vendor, db.name)?.template === template,
    );
    const tpl = members.find((db) => db.name === template);
    const clones = members.filter((db) => db !== tpl);
    // A family without any record of ours is not ours, whatever its names look like.
    if (!tpl?.record && !clones.some((c) => c.record)) return [];
    const actions: SweepAction[] = [];
    let inUse = 0;
    for (const clone of clones) {
      const verdict = judge(clone, options, tpl?.record != null);
      if (!verdict.drop) inUse++;
      actions.push(await act(backend, clone.name, verdict, options));
    }
    if (tpl) {
      const verdict = judge(
        tpl,
        options,
        clones.some((c) => c.record),
      );
      if (verdict.drop && inUse > 0) {
        actions.push({
          name: tpl.name,
          reason: `its clones are in use (${inUse})`,
          drop: false,
          dropped: false,
        });
      } else {
        actions.push(await act(backend, tpl.name, verdict, options));
      }
    }
    return actions.filter((a) => a.dropped || options.reportKept || a.error || (options.dryRun && a.drop));
  } finally {
    await lock.release();
  }
}

interface Verdict {
  drop: boolean;
  reason: string;
}

function judge(db: ExistingDatabase, options: SweepOptions, familyIsOurs: boolean): Verdict {
  const record = db.record;
  if (!record) {
    // Killed between creating it and recording it; its family carries our record.
    return familyIsOurs
      ? { drop: true, reason: "left half-made (no record)" }
      : { drop: false, reason: "no record of django-concurrent-test" };
  }
  if (record.owner) {
    const liveness = ownerLiveness(record.owner);
    if (liveness === "gone")
      return {
        drop: true,
        reason: `its owner (${describeOwner(record.owner)}) is gone`,
      };
    if (liveness === "elsewhere")
      return {
        drop: false,
        reason: `owned by ${describeOwner(record.owner)} (another host: not judged)`,
      };
    return { drop: false, reason: `in use by ${describeOwner(record.owner)}` };
  }
  if (record.kept) {
    return options.all
      ? {
          drop: true,
          reason: `kept for reuse (${record.role}, hash ${record.hash})`,
        }
      : { drop: false, reason: `kept for reuse (--keepdb)` };
  }
  return { drop: true, reason: "owned by nobody and not kept" };
}

async function act(
  backend: DatabaseBackend,
  name: string,
  verdict: Verdict,
  options: SweepOptions,
): Promise<SweepAction> {
  const action = {
    name,
    reason: verdict.reason,
    drop: verdict.drop,
    dropped: false,
  };
  if (!verdict.drop || options.dryRun) return action;
  try {
    await backend.dropDatabase(name);
    return { ...action, dropped: true };
  } catch (error) {
    return { ...action, error: (error as Error).message };
  }
}

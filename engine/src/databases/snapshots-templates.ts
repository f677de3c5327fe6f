// Snapshots in the template stage (templates.ts): a template the server does not have is
// restored from its snapshot file instead of migrated, and a template this run migrated is
// saved for the next fresh server. Neither ever fails a run: a snapshot that cannot be used is
// one line and a migration as without it, one that cannot be saved is one line.
import path from "node:path";
import type { DatabaseBackend } from "./backend.ts";
import { parseEngineName } from "./naming.ts";
import {
  openSnapshot,
  otherFingerprints,
  removeStaleSnapshots,
  snapshotPath,
  snapshotTemplateName,
  writeSnapshot,
  type SnapshotIdentity,
} from "./snapshots.ts";

/** The template a snapshot is for: a name the safety gate already planned. */
export interface SnapshotTarget {
  alias: string;
  vendor: string;
  name: string;
  /** The template's full fingerprint. */
  hash: string;
  backend: DatabaseBackend;
}

export interface SnapshotContext {
  /** The project's snapshots folder. */
  dir: string;
  verbosity: number;
  log: (text: string) => void;
}

async function identity(t: SnapshotTarget): Promise<SnapshotIdentity> {
  return {
    vendor: t.vendor,
    server: await t.backend.snapshotServer!(),
    fingerprint: t.hash,
    template: snapshotTemplateName(t.vendor, t.name),
  };
}

/** A snapshot file as the user finds it: relative to the project when inside it. */
function shown(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith("..") ? file : relative;
}

function templateBase(t: SnapshotTarget): string | null {
  const parsed = parseEngineName(t.vendor, t.name);
  return parsed ? path.basename(parsed.base) : null;
}

/** Why no snapshot fits: one of an older fingerprint is there (null when there is none). */
async function staleReason(t: SnapshotTarget, ctx: SnapshotContext, file: string): Promise<string | null> {
  const base = templateBase(t);
  const older = base ? await otherFingerprints(ctx.dir, file, base) : [];
  if (older.length === 0) return null;
  return `Ignoring the snapshot ${shown(older[0]!)}: it was made for other migrations (fingerprint differs); migrating instead.`;
}

/**
 * Fills the empty, just-created template from its snapshot. "absent": no usable snapshot (the
 * database is untouched); "failed": the restore began and failed (the caller starts over).
 */
export async function restoreFromSnapshot(
  t: SnapshotTarget,
  ctx: SnapshotContext,
): Promise<"restored" | "absent" | "failed"> {
  const { backend } = t;
  if (!backend.restoreDatabase || !backend.snapshotServer) return "absent";
  const file = snapshotPath(ctx.dir, t.vendor, t.name);
  const say = (line: string | null): void => {
    if (line && ctx.verbosity >= 1) ctx.log(`${line}\n`);
  };
  let opened: Awaited<ReturnType<typeof openSnapshot>>;
  try {
    opened = await openSnapshot(file, await identity(t));
  } catch (error) {
    opened = { ok: false, reason: (error as Error).message };
  }
  if (!opened) {
    say(await staleReason(t, ctx, file));
    return "absent";
  }
  if (!opened.ok) {
    say(`Ignoring the snapshot ${shown(file)}: ${opened.reason}; migrating instead.`);
    return "absent";
  }
  say(`Restoring test database for alias '${t.alias}' from the snapshot ${shown(file)}...`);
  try {
    await backend.restoreDatabase(t.name, opened.payload());
    return "restored";
  } catch (error) {
    say(`Could not restore the snapshot ${shown(file)}: ${(error as Error).message}; migrating instead.`);
    return "failed";
  }
}

/** Saves the template this run migrated (complete and recorded); whether it was saved. */
export async function saveSnapshot(t: SnapshotTarget, ctx: SnapshotContext): Promise<boolean> {
  const { backend } = t;
  if (!backend.dumpDatabase || !backend.snapshotServer) return false;
  const file = snapshotPath(ctx.dir, t.vendor, t.name);
  try {
    await writeSnapshot(file, await identity(t), (out) => backend.dumpDatabase!(t.name, out));
    const base = templateBase(t);
    if (base) await removeStaleSnapshots(ctx.dir, file, base);
    if (ctx.verbosity >= 2) ctx.log(`Saved a snapshot of the test database for alias '${t.alias}': ${shown(file)}\n`);
    return true;
  } catch (error) {
    if (ctx.verbosity >= 1) {
      ctx.log(`Could not save a snapshot of the test database for alias '${t.alias}': ${(error as Error).message}\n`);
    }
    return false;
  }
}

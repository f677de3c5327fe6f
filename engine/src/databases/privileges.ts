// Permission validation, the one safety check that connects to a server (so it sits with the
// backends): before any work starts, each server's role must be allowed to create and drop the
// run's databases. The SQL lives in the backends (missingPrivileges); this module decides what to
// ask and how a refusal reads. Runs after the host guard, so only permitted hosts are connected to.
import type { BackendContext, ConnectionRoom, DatabaseBackend } from "./backend.ts";
import { CLONEABLE_VENDORS, openBackend } from "./index.ts";
import { ConfigError, InsufficientPrivileges } from "../core/errors.ts";
import type { DatabaseSettings, ProjectSettings } from "../protocol/messages.ts";
import { shown } from "../safety/identifiers.ts";
import type { NamePolicy } from "../safety/names.ts";
import { plannedNames } from "../safety/planned-names.ts";

function server(db: DatabaseSettings): string {
  const host = db.host ? String(db.host) : "the default socket";
  return db.port ? `${host}:${db.port}` : host;
}

/** Asks every cloneable server alias's backend what its role lacks; refuses on the first gap. */
export async function checkPrivileges(
  settings: ProjectSettings,
  policy: NamePolicy,
  workers: number,
  open: (ctx: BackendContext) => DatabaseBackend = openBackend,
): Promise<void> {
  const planned = plannedNames(settings, workers);
  for (const [alias, db] of Object.entries(settings.databases)) {
    if (db.vendor === "sqlite" || db.test.mirror || !CLONEABLE_VENDORS.includes(db.vendor)) continue;
    const names = planned.filter((p) => p.alias === alias && p.created).map((p) => p.name);
    if (names.length === 0) continue;
    const backend = open({ settings: db, policy, concurrency: 1 });
    let report;
    let room;
    try {
      report = await backend.missingPrivileges?.(names);
      room = await backend.connectionRoom?.();
    } catch (error) {
      throw new ConfigError(
        `could not check the privileges of DATABASES["${alias}"] (${db.vendor} at ${server(db)}): ${(error as Error).message}`,
        "is the database server running, and are USER and PASSWORD right?",
      );
    } finally {
      await backend.close().catch(() => undefined);
    }
    if (report && report.missing.length > 0) {
      const what = report.missing.join(" and ");
      throw new InsufficientPrivileges(
        `database user ${shown(report.role)} of DATABASES["${alias}"] (${db.vendor} at ${server(db)}) lacks the ${what} privilege${report.missing.length > 1 ? "s" : ""} needed to create and drop ${shown(names[0] ?? "")} and one clone per worker`,
        `grant it (${report.grant}) or use a role that may create databases`,
      );
    }
    if (room) checkConnectionRoom(room, workers, alias, db);
  }
}

/** Each worker holds a connection to its clone, the bridge one to the template: a run the server
 * cannot admit would fail worker by worker, so it is refused before anything is made. */
export function checkConnectionRoom(room: ConnectionRoom, workers: number, alias: string, db: DatabaseSettings): void {
  const free = room.limit - room.inUse;
  const needed = workers + 1;
  if (needed <= free) return;
  throw new ConfigError(
    `${workers} workers need ${needed} connections to DATABASES["${alias}"] (${db.vendor} at ${server(db)}), which accepts ${Math.max(0, free)} more (limit ${room.limit}, ${room.inUse} in use)`,
    `use at most ${Math.max(1, free - 1)} workers (--workers or DJANGO_TEST_WORKERS), or raise the server's max_connections`,
  );
}

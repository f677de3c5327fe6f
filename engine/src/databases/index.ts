// Picks the backend module for a vendor: one class per backend behind backend.ts.
import { UnsupportedDatabase } from "../core/errors.ts";
import type { BackendContext, BackendOptions, DatabaseBackend } from "./backend.ts";
import { MysqlBackend } from "./mysql.ts";
import { PostgresBackend } from "./postgres.ts";
import { SqliteBackend } from "./sqlite.ts";

export const CLONEABLE_VENDORS: readonly string[] = ["sqlite", "postgresql", "mysql"];

export function openBackend(ctx: BackendContext): DatabaseBackend {
  switch (ctx.settings.vendor) {
    case "sqlite":
      return new SqliteBackend(ctx);
    case "postgresql":
      return new PostgresBackend(ctx);
    case "mysql":
      return new MysqlBackend(ctx);
    default:
      throw new UnsupportedDatabase(`cannot clone ${ctx.settings.vendor} databases`);
  }
}

/** One backend per server (vendor, host, port, user), shared by templates, clones and sweeps. */
export class BackendRegistry {
  private readonly open = new Map<string, DatabaseBackend>();
  constructor(private readonly make: (ctx: BackendContext) => DatabaseBackend = openBackend) {}

  get(ctx: BackendContext): DatabaseBackend {
    const s = ctx.settings;
    const key = JSON.stringify([s.vendor, s.host, s.port, s.user]);
    let backend = this.open.get(key);
    if (!backend) {
      backend = this.make(ctx);
      this.open.set(key, backend);
    }
    return backend;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.open.values()].map((b) => b.close()));
    this.open.clear();
  }
}

/**
 * Backend options from CONCURRENT_TEST_CONFIG. Defaults measured on PostgreSQL 15 (see
 * docs/databases.md): FILE_COPY clones small templates faster than WAL_LOG, and clones that
 * skip the WAL flush on commit speed up TransactionTestCase-heavy suites.
 */
export function backendOptions(settings: {
  postgres_clone_strategy?: "wal_log" | "file_copy";
  postgres_synchronous_commit?: boolean;
}): BackendOptions {
  return {
    postgresCloneStrategy: settings.postgres_clone_strategy ?? "file_copy",
    postgresSynchronousCommit: settings.postgres_synchronous_commit ?? false,
  };
}

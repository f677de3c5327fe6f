// Picks the backend module for a vendor. MySQL/MariaDB cloning is not built yet: those vendors
// fall back to Django's own runner (see fallback.ts) until it is.
import { UnsupportedDatabase } from "../errors.ts";
import type { BackendContext, DatabaseBackend } from "./backend.ts";
import { PostgresBackend } from "./postgres.ts";
import { SqliteBackend } from "./sqlite.ts";

export const CLONEABLE_VENDORS: readonly string[] = ["sqlite", "postgresql"];

export function openBackend(ctx: BackendContext): DatabaseBackend {
  switch (ctx.settings.vendor) {
    case "sqlite":
      return new SqliteBackend(ctx);
    case "postgresql":
      return new PostgresBackend(ctx);
    default:
      throw new UnsupportedDatabase(`cannot clone ${ctx.settings.vendor} databases`);
  }
}

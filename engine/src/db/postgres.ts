// PostgreSQL: clones are CREATE DATABASE ... TEMPLATE, made concurrently through the pg driver.
import pg from "pg";
import { DatabaseTemplateException } from "../errors.ts";
import { assertTestDatabaseName } from "../safety/names.ts";
import type { BackendContext, DatabaseBackend } from "./backend.ts";

const OBJECT_IN_USE = "55006";

export function connectionConfig(ctx: BackendContext, database = "postgres"): pg.PoolConfig {
  const s = ctx.settings;
  return {
    host: s.host || undefined,
    port: s.port ? Number(s.port) : undefined,
    user: s.user || undefined,
    password: s.password || undefined,
    database,
    max: Math.max(1, ctx.concurrency),
    application_name: "django-concurrent-test",
  };
}

export class PostgresBackend implements DatabaseBackend {
  readonly vendor = "postgresql";
  private readonly pool: pg.Pool;

  constructor(
    private readonly ctx: BackendContext,
    private readonly retry = { attempts: 12, firstDelayMs: 100, factor: 1.6 },
  ) {
    this.pool = new pg.Pool(connectionConfig(ctx));
    this.pool.on("error", () => undefined); // idle client errors surface on the next query
  }

  private quote(name: string): string {
    assertTestDatabaseName(name, this.vendor, this.ctx.policy);
    return pg.escapeIdentifier(name);
  }

  async cloneDatabase(template: string, clone: string): Promise<void> {
    const source = this.quote(template);
    const target = this.quote(clone);
    await this.dropDatabase(clone);
    let delay = this.retry.firstDelayMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.pool.query(`CREATE DATABASE ${target} WITH TEMPLATE ${source}`);
        return;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code !== OBJECT_IN_USE || attempt >= this.retry.attempts) {
          const blockers = code === OBJECT_IN_USE ? await this.describeSessions(template) : "";
          throw new DatabaseTemplateException(
            `could not clone "${template}" into "${clone}": ${(error as Error).message}${blockers}`,
          );
        }
        await new Promise((r) => setTimeout(r, delay));
        delay *= this.retry.factor;
      }
    }
  }

  /** Names the sessions keeping a template busy, so the user can find them. */
  private async describeSessions(database: string): Promise<string> {
    const { rows } = await this.pool.query<{ pid: number; application_name: string; client_addr: string | null }>(
      "SELECT pid, application_name, client_addr::text AS client_addr FROM pg_stat_activity WHERE datname = $1",
      [database],
    );
    if (rows.length === 0) return "";
    const list = rows.map((r) => `pid ${r.pid} (${r.application_name || "no application_name"}, ${r.client_addr ?? "local socket"})`);
    return `; sessions using it: ${list.join(", ")}`;
  }

  async dropDatabase(name: string): Promise<void> {
    const quoted = this.quote(name);
    // WITH (FORCE) ends sessions a killed worker may have left (PostgreSQL 13+).
    await this.pool.query(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

// PostgreSQL: templates are created empty for Django to migrate, clones are CREATE DATABASE ...
// TEMPLATE, made concurrently through the pg driver. Records are database comments; named
// locks are session advisory locks on one dedicated connection. Snapshots are pg_dump archives,
// restored with pg_restore (the client tools, when installed).
import { createHash } from "node:crypto";
import type { Readable, Writable } from "node:stream";
import pg from "pg";
import { decodeRecord, encodeRecord, type DatabaseRecord } from "./records.ts";
import { DatabaseTemplateException } from "../core/errors.ts";
import { assertTestDatabaseName } from "../safety/names.ts";
import { runTool } from "./snapshots-tools.ts";
import {
  pollForLock,
  type BackendContext,
  type DatabaseBackend,
  type ExistingDatabase,
  type HeldLock,
  type PrivilegeReport,
  type ConnectionRoom,
} from "./backend.ts";

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

/** LIKE pattern matching names that start with `prefix` literally. */
export function likePrefix(prefix: string): string {
  return prefix.replace(/[\\%_]/g, (c) => "\\" + c) + "%";
}

/** Advisory lock keys are bigints: the first 8 bytes of a hash of the name. */
function lockKey(name: string): string {
  return createHash("sha256").update(`django-concurrent-test:${name}`).digest().readBigInt64BE(0).toString();
}

export class PostgresBackend implements DatabaseBackend {
  readonly vendor = "postgresql";
  private readonly pool: pg.Pool;
  private lockClient?: Promise<pg.Client>;
  private serverVersion?: Promise<number>;

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

  private version(): Promise<number> {
    this.serverVersion ??= this.pool.query<{ v: string }>("SHOW server_version_num").then((r) => Number(r.rows[0]!.v));
    return this.serverVersion;
  }

  async listDatabases(prefix: string): Promise<ExistingDatabase[]> {
    const { rows } = await this.pool.query<{
      datname: string;
      comment: string | null;
    }>(
      "SELECT datname, shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname LIKE $1 ORDER BY datname",
      [likePrefix(prefix)],
    );
    return rows.map((r) => ({
      name: r.datname,
      record: decodeRecord(r.comment),
    }));
  }

  async createDatabase(name: string, record: DatabaseRecord): Promise<void> {
    const target = this.quote(name);
    const test = this.ctx.settings.test;
    // The same options Django's creation would use: TEST CHARSET as ENCODING, TEST TEMPLATE.
    const options: string[] = [];
    if (test.charset) options.push(`ENCODING ${pg.escapeLiteral(test.charset)}`);
    if (test.template) options.push(`TEMPLATE ${pg.escapeIdentifier(test.template)}`);
    await this.pool.query(`CREATE DATABASE ${target}${options.length ? " WITH " + options.join(" ") : ""}`);
    await this.writeRecord(name, record);
  }

  async cloneDatabase(template: string, clone: string, record: DatabaseRecord): Promise<void> {
    const source = this.quote(template);
    const target = this.quote(clone);
    const strategy = this.ctx.options?.postgresCloneStrategy;
    const withStrategy = strategy && (await this.version()) >= 150000 ? ` STRATEGY ${strategy.toUpperCase()}` : "";
    let delay = this.retry.firstDelayMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.pool.query(`CREATE DATABASE ${target} WITH TEMPLATE ${source}${withStrategy}`);
        break;
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
    await this.writeRecord(clone, record);
    if (this.ctx.options?.postgresSynchronousCommit === false) {
      // A clone is thrown away after the run: commits need not wait for the WAL flush.
      await this.pool.query(`ALTER DATABASE ${target} SET synchronous_commit = off`);
    }
  }

  /** Names the sessions keeping a template busy, so the user can find them. */
  private async describeSessions(database: string): Promise<string> {
    const { rows } = await this.pool.query<{
      pid: number;
      application_name: string;
      client_addr: string | null;
    }>("SELECT pid, application_name, client_addr::text AS client_addr FROM pg_stat_activity WHERE datname = $1", [
      database,
    ]);
    if (rows.length === 0) return "";
    const list = rows.map(
      (r) => `pid ${r.pid} (${r.application_name || "no application_name"}, ${r.client_addr ?? "local socket"})`,
    );
    return `; sessions using it: ${list.join(", ")}`;
  }

  async writeRecord(name: string, record: DatabaseRecord): Promise<void> {
    await this.pool.query(`COMMENT ON DATABASE ${this.quote(name)} IS ${pg.escapeLiteral(encodeRecord(record))}`);
  }

  async dropDatabase(name: string): Promise<void> {
    const quoted = this.quote(name);
    // WITH (FORCE) ends sessions a killed worker may have left (PostgreSQL 13+).
    await this.pool.query(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`);
  }

  /** Advisory locks live on one session of their own, apart from the cloning pool. */
  private locker(): Promise<pg.Client> {
    this.lockClient ??= (async () => {
      const client = new pg.Client({
        ...connectionConfig(this.ctx),
        application_name: "django-concurrent-test (locks)",
      });
      client.on("error", () => undefined);
      await client.connect();
      return client;
    })();
    return this.lockClient;
  }

  async tryLock(name: string): Promise<HeldLock | null> {
    const client = await this.locker();
    const key = lockKey(name);
    const { rows } = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1::bigint) AS ok", [key]);
    if (!rows[0]!.ok) return null;
    return {
      release: async () => void (await client.query("SELECT pg_advisory_unlock($1::bigint)", [key])),
    };
  }

  lock(name: string, onWait: () => void, timeoutMs: number): Promise<HeldLock> {
    return pollForLock(() => this.tryLock(name), onWait, timeoutMs, `the lock on "${name}"`);
  }

  /** Cloning needs CREATEDB (or superuser); the role owns, so may drop, what it creates. */
  async missingPrivileges(): Promise<PrivilegeReport> {
    const { rows } = await this.pool.query<{
      role: string;
      rolsuper: boolean;
      rolcreatedb: boolean;
    }>("SELECT rolname AS role, rolsuper, rolcreatedb FROM pg_roles WHERE rolname = current_user");
    const role = rows[0]?.role ?? "(unknown role)";
    const allowed = rows[0]?.rolsuper || rows[0]?.rolcreatedb;
    return {
      role,
      missing: allowed ? [] : ["CREATEDB"],
      grant: `ALTER ROLE ${pg.escapeIdentifier(role)} CREATEDB;`,
    };
  }

  async connectionRoom(): Promise<ConnectionRoom> {
    const { rows } = await this.pool.query<{ max: number; reserved: number; used: number }>(
      `SELECT current_setting('max_connections')::int AS max,
        CASE WHEN (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN 0
          ELSE current_setting('superuser_reserved_connections')::int END AS reserved,
        (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend') AS used`,
    );
    const row = rows[0]!;
    return { limit: row.max - row.reserved, inUse: row.used };
  }

  async snapshotServer(): Promise<string> {
    return `PostgreSQL ${Math.floor((await this.version()) / 10000)}`;
  }

  /** pg_dump's custom archive of the template (its comment, our record, is not in it). */
  async dumpDatabase(name: string, out: Writable): Promise<void> {
    await runTool({
      command: "pg_dump",
      args: ["--format=custom", "--no-owner", "--no-privileges"],
      env: this.toolEnv(name),
      output: out,
    });
  }

  /** pg_restore into the empty database, in one transaction: all of it or an error. */
  async restoreDatabase(name: string, input: Readable): Promise<void> {
    if (name.includes("=")) throw new Error(`pg_restore would read "${name}" as connection settings`);
    await runTool({
      command: "pg_restore",
      args: ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", `--dbname=${name}`],
      env: this.toolEnv(name),
      input,
    });
  }

  /**
   * The client tools' connection: the same server, role and password the driver uses, through
   * libpq's environment variables (never on a command line, where other users could read it).
   */
  private toolEnv(database: string): NodeJS.ProcessEnv {
    assertTestDatabaseName(database, this.vendor, this.ctx.policy);
    const config = connectionConfig(this.ctx, database);
    const env: NodeJS.ProcessEnv = { ...process.env, PGDATABASE: database, PGAPPNAME: "django-concurrent-test" };
    // Unset, the driver connects to localhost:5432 (libpq would try a Unix socket).
    env.PGHOST = config.host ?? process.env.PGHOST ?? "localhost";
    env.PGPORT = String(config.port ?? process.env.PGPORT ?? 5432);
    if (config.user) env.PGUSER = config.user;
    if (typeof config.password === "string") env.PGPASSWORD = config.password;
    return env;
  }

  async close(): Promise<void> {
    if (this.lockClient) await (await this.lockClient.catch(() => null))?.end().catch(() => undefined);
    await this.pool.end();
  }
}

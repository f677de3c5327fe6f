// MySQL and MariaDB: no mysqldump. A clone is built through the mysql2 driver from the
// template itself: the database with the template's charset and collation, every table from
// SHOW CREATE TABLE, the template's rows (foreign-key checks off, counts verified), then views,
// triggers, routines and events. Clones are made in parallel, one connection each; every
// statement's error is fatal for that clone. Records are database comments on MariaDB 10.5+
// and a one-row table on MySQL, which has no database comments. A snapshot is the same plan
// with the template's rows written out (snapshots-mysql.ts), replicated the same way.
import { createHash } from "node:crypto";
import type { Readable, Writable } from "node:stream";
import type { Connection as CoreConnection } from "mysql2";
import mysql from "mysql2/promise";
import { decodeRecord, encodeRecord, type DatabaseRecord } from "./records.ts";
import { DatabaseTemplateException } from "../core/errors.ts";
import { assertTestDatabaseName } from "../safety/names.ts";
import { COPY_MODE, DDL_MODE, id, withoutDefiner } from "./mysql-definitions.ts";
import { checksums, repairClone } from "./mysql-repair.ts";
import { LineReader, readRows, writeLine, writeRows } from "./snapshots-mysql.ts";
import {
  pollForLock,
  type BackendContext,
  type DatabaseBackend,
  type ExistingDatabase,
  type HeldLock,
  type PrivilegeReport,
  type ConnectionRoom,
} from "./backend.ts";

export { withoutDefiner };

type Row = mysql.RowDataPacket;

/** Where records live where the server has no database comments (MySQL). */
export const RECORD_TABLE = "django_concurrent_test";

interface TablePlan {
  name: string;
  create: string;
  /** Columns to copy: generated columns are computed, never inserted. */
  columns: string[];
  rows: number;
}

interface StoredObject {
  kind: "view" | "trigger" | "procedure" | "function" | "event";
  name: string;
  create: string;
  sqlMode?: string;
  timeZone?: string;
}

/** Everything a clone needs, read once from the (unchanging) template. */
export interface ReplicationPlan {
  charset: string;
  collation: string;
  tables: TablePlan[];
  views: StoredObject[];
  /** Triggers, routines and events: made after the rows so no trigger fires on the copy. */
  programs: StoredObject[];
}

export function connectionOptions(ctx: BackendContext): mysql.PoolOptions {
  const s = ctx.settings;
  const host = s.host || "localhost";
  return {
    ...(host.startsWith("/") ? { socketPath: host } : { host, port: s.port ? Number(s.port) : 3306 }),
    user: s.user || undefined,
    password: s.password || undefined,
    charset: "utf8mb4",
    connectionLimit: Math.max(1, ctx.concurrency) + 1,
    multipleStatements: false,
  };
}

function describe(error: unknown): string {
  const e = error as { message?: string; code?: string };
  return e.code ? `${e.message} (${e.code})` : String(e.message ?? error);
}

export class MysqlBackend implements DatabaseBackend {
  readonly vendor = "mysql";
  private readonly pool: mysql.Pool;
  private readonly plans = new Map<string, Promise<ReplicationPlan>>();
  private readonly sums = new Map<string, Promise<Map<string, number | null>>>();
  private recordMode?: Promise<"comment" | "table">;
  private lockConnection?: Promise<mysql.Connection>;

  /** `recordMode` forces where records live (tests run MySQL's way on MariaDB). */
  constructor(
    private readonly ctx: BackendContext,
    forcedRecordMode?: "comment" | "table",
  ) {
    this.pool = mysql.createPool(connectionOptions(ctx));
    if (forcedRecordMode) this.recordMode = Promise.resolve(forcedRecordMode);
  }

  private quote(name: string): string {
    assertTestDatabaseName(name, this.vendor, this.ctx.policy);
    return id(name);
  }

  /** MariaDB 10.5+ keeps a comment per database; MySQL does not. */
  private mode(): Promise<"comment" | "table"> {
    this.recordMode ??= this.pool.query<Row[]>("SELECT VERSION() AS v").then(([rows]) => {
      const m = /^(\d+)\.(\d+).*mariadb/i.exec(String(rows[0]!.v));
      return m && (Number(m[1]) > 10 || (Number(m[1]) === 10 && Number(m[2]) >= 5)) ? "comment" : "table";
    });
    return this.recordMode;
  }

  async listDatabases(prefix: string): Promise<ExistingDatabase[]> {
    const like = prefix.replace(/[\\%_]/g, (c) => "\\" + c) + "%";
    if ((await this.mode()) === "comment") {
      const [rows] = await this.pool.query<Row[]>(
        "SELECT SCHEMA_NAME AS name, SCHEMA_COMMENT AS comment FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ? ORDER BY SCHEMA_NAME",
        [like],
      );
      return rows.map((r) => ({
        name: String(r.name),
        record: decodeRecord(r.comment as string | null),
      }));
    }
    const [names] = await this.pool.query<Row[]>(
      "SELECT SCHEMA_NAME AS name, EXISTS(SELECT 1 FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = s.SCHEMA_NAME AND t.TABLE_NAME = ?) AS recorded FROM information_schema.SCHEMATA s WHERE SCHEMA_NAME LIKE ? ORDER BY SCHEMA_NAME",
      [RECORD_TABLE, like],
    );
    const result: ExistingDatabase[] = [];
    for (const r of names) {
      const name = String(r.name);
      let record: DatabaseRecord | null = null;
      if (Number(r.recorded)) {
        const [rows] = await this.pool.query<Row[]>(`SELECT record FROM ${id(name)}.${id(RECORD_TABLE)} LIMIT 1`);
        record = decodeRecord(rows[0]?.record as string | undefined);
      }
      result.push({ name, record });
    }
    return result;
  }

  private async createSchema(
    conn: mysql.PoolConnection | mysql.Pool,
    name: string,
    charset: string | null,
    collation: string | null,
    record: DatabaseRecord,
  ): Promise<void> {
    const target = this.quote(name);
    const options = [charset ? `CHARACTER SET ${id(charset)}` : "", collation ? `COLLATE ${id(collation)}` : ""]
      .filter(Boolean)
      .join(" ");
    if ((await this.mode()) === "comment") {
      // The record is made with the database: no moment exists where it has none.
      await conn.query(`CREATE DATABASE ${target} ${options} COMMENT ${mysql.escape(encodeRecord(record))}`);
    } else {
      await conn.query(`CREATE DATABASE ${target} ${options}`);
      await conn.query(`CREATE TABLE ${target}.${id(RECORD_TABLE)} (record VARCHAR(2048) NOT NULL)`);
      await conn.query(`INSERT INTO ${target}.${id(RECORD_TABLE)} (record) VALUES (?)`, [encodeRecord(record)]);
    }
  }

  async createDatabase(name: string, record: DatabaseRecord): Promise<void> {
    // The options Django's creation would use: TEST CHARSET and TEST COLLATION.
    await this.createSchema(this.pool, name, this.ctx.settings.test.charset, this.ctx.settings.test.collation, record);
  }

  /** `conn`: a clone's own connection (a job holding one never waits for a second). */
  async writeRecord(
    name: string,
    record: DatabaseRecord,
    conn: mysql.Pool | mysql.PoolConnection = this.pool,
  ): Promise<void> {
    const target = this.quote(name);
    if ((await this.mode()) === "comment") {
      await conn.query(`ALTER DATABASE ${target} COMMENT ${mysql.escape(encodeRecord(record))}`);
    } else {
      await conn.query(`UPDATE ${target}.${id(RECORD_TABLE)} SET record = ?`, [encodeRecord(record)]);
    }
  }

  async dropDatabase(name: string): Promise<void> {
    await this.pool.query(`DROP DATABASE IF EXISTS ${this.quote(name)}`);
  }

  /** The template's plan, read once per run (the template does not change while cloned). */
  plan(template: string): Promise<ReplicationPlan> {
    let plan = this.plans.get(template);
    if (!plan) {
      plan = this.readPlan(template);
      plan.catch(() => this.plans.delete(template));
      this.plans.set(template, plan);
    }
    return plan;
  }

  private async readPlan(template: string): Promise<ReplicationPlan> {
    const source = this.quote(template);
    const conn = await this.pool.getConnection();
    try {
      // Read with the template as the current database, so definitions come back unqualified.
      await conn.query(`USE ${source}`);
      const [[schema]] = await conn.query<Row[]>(
        "SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
        [template],
      );
      if (!schema) throw new Error(`template database "${template}" does not exist`);
      const [listed] = await conn.query<Row[]>("SHOW FULL TABLES");
      const tables: TablePlan[] = [];
      const views: StoredObject[] = [];
      for (const row of listed) {
        const [name, type] = Object.values(row).map(String) as [string, string];
        if (type === "VIEW") {
          const [[v]] = await conn.query<Row[]>(`SHOW CREATE VIEW ${id(name)}`);
          views.push({
            kind: "view",
            name,
            create: withoutDefiner(String(v!["Create View"])),
          });
        } else if (type === "BASE TABLE") {
          if (name === RECORD_TABLE) continue;
          const [[t]] = await conn.query<Row[]>(`SHOW CREATE TABLE ${id(name)}`);
          tables.push({
            name,
            create: String(t!["Create Table"]),
            columns: [],
            rows: 0,
          });
        } else {
          throw new Error(`cannot replicate ${type.toLowerCase()} ${id(name)}: only tables and views are supported`);
        }
      }
      const [columns] = await conn.query<Row[]>(
        "SELECT TABLE_NAME AS t, COLUMN_NAME AS c, GENERATION_EXPRESSION AS g FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION",
        [template],
      );
      const byName = new Map(tables.map((t) => [t.name, t]));
      for (const c of columns) {
        if (c.g !== null && c.g !== "") continue;
        byName.get(String(c.t))?.columns.push(String(c.c));
      }
      if (tables.length > 0) {
        const [counts] = await conn.query<Row[]>(
          tables
            .map((t) => `SELECT ${mysql.escape(t.name)} AS t, COUNT(*) AS n FROM ${id(t.name)}`)
            .join(" UNION ALL "),
        );
        for (const c of counts) byName.get(String(c.t))!.rows = Number(c.n);
      }
      const programs = await this.readPrograms(conn, template);
      return {
        charset: String(schema.cs),
        collation: String(schema.co),
        tables,
        views,
        programs,
      };
    } finally {
      conn.destroy();
    }
  }

  private async readPrograms(conn: mysql.PoolConnection, template: string): Promise<StoredObject[]> {
    const programs: StoredObject[] = [];
    const [triggers] = await conn.query<Row[]>(
      "SELECT TRIGGER_NAME AS n FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? ORDER BY EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER",
      [template],
    );
    for (const t of triggers) {
      const [[row]] = await conn.query<Row[]>(`SHOW CREATE TRIGGER ${id(String(t.n))}`);
      programs.push({
        kind: "trigger",
        name: String(t.n),
        create: withoutDefiner(String(row!["SQL Original Statement"])),
        sqlMode: String(row!.sql_mode),
      });
    }
    const [routines] = await conn.query<Row[]>(
      "SELECT ROUTINE_NAME AS n, ROUTINE_TYPE AS k FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? ORDER BY ROUTINE_TYPE, ROUTINE_NAME",
      [template],
    );
    for (const r of routines) {
      const kind = String(r.k).toLowerCase();
      if (kind !== "procedure" && kind !== "function") throw new Error(`cannot replicate ${kind} ${id(String(r.n))}`);
      const [[row]] = await conn.query<Row[]>(`SHOW CREATE ${kind.toUpperCase()} ${id(String(r.n))}`);
      const create = row![kind === "procedure" ? "Create Procedure" : "Create Function"];
      if (create === null)
        throw new Error(
          `cannot read the definition of ${kind} ${id(String(r.n))}: the engine's user lacks the privilege`,
        );
      programs.push({
        kind,
        name: String(r.n),
        create: withoutDefiner(String(create)),
        sqlMode: String(row!.sql_mode),
      });
    }
    const [events] = await conn.query<Row[]>(
      "SELECT EVENT_NAME AS n FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? ORDER BY EVENT_NAME",
      [template],
    );
    for (const e of events) {
      const [[row]] = await conn.query<Row[]>(`SHOW CREATE EVENT ${id(String(e.n))}`);
      programs.push({
        kind: "event",
        name: String(e.n),
        create: withoutDefiner(String(row!["Create Event"])),
        sqlMode: String(row!.sql_mode),
        timeZone: String(row!.time_zone),
      });
    }
    return programs;
  }

  async cloneDatabase(template: string, clone: string, record: DatabaseRecord): Promise<void> {
    const source = this.quote(template);
    const step = { now: "reading the template" };
    let conn: mysql.PoolConnection | undefined;
    try {
      // The plan (and the record mode) first: reading them takes a connection of the same pool.
      const plan = await this.plan(template);
      await this.mode();
      conn = await this.pool.getConnection();
      step.now = "creating the database";
      await this.createSchema(conn, clone, plan.charset, plan.collation, {
        ...record,
        complete: false,
      });
      const copy = conn;
      await this.replicate(conn, clone, plan, step, async (table) => {
        const cols = table.columns.map(id).join(", ");
        const [result] = await copy.query<mysql.ResultSetHeader>(
          `INSERT INTO ${id(table.name)} (${cols}) SELECT ${cols} FROM ${source}.${id(table.name)}`,
        );
        return result.affectedRows;
      });
      await this.writeRecord(clone, record, conn);
    } catch (error) {
      throw new DatabaseTemplateException(
        `could not copy "${template}" into "${clone}" (${step.now}): ${describe(error)}`,
      );
    } finally {
      // Session settings changed above: this connection is not handed out again.
      conn?.destroy();
    }
  }

  /** Puts a kept clone's rows back to the template's (mysql-repair.ts); false: copy it afresh. */
  async repairClone(template: string, clone: string, record: DatabaseRecord): Promise<boolean> {
    const quoted = { template: this.quote(template), clone: this.quote(clone) };
    const plan = await this.plan(template);
    await this.mode();
    const conn = await this.pool.getConnection();
    try {
      await this.writeRecord(clone, { ...record, complete: false }, conn);
      const sums = (): Promise<Map<string, number | null>> => this.templateSums(template, plan);
      if (!(await repairClone(conn, quoted, plan, RECORD_TABLE, sums))) return false;
      await this.writeRecord(clone, record, conn);
      return true;
    } catch (error) {
      throw new DatabaseTemplateException(`could not repair "${clone}" from "${template}": ${describe(error)}`);
    } finally {
      // Session settings changed: this connection is not handed out again.
      conn.destroy();
    }
  }

  /** The template's checksums, read once per run (the template does not change while cloned). */
  private templateSums(template: string, plan: ReplicationPlan): Promise<Map<string, number | null>> {
    let sums = this.sums.get(template);
    if (!sums) {
      sums = checksums(
        this.pool,
        plan.tables.map((t) => t.name),
        this.quote(template),
      );
      sums.catch(() => this.sums.delete(template));
      this.sums.set(template, sums);
    }
    return sums;
  }

  /**
   * Makes the plan's objects in the empty database `target` on `conn`: tables, their rows (from
   * `copyRows`, which returns how many it inserted), views, then triggers, routines and events,
   * and checks the result. `step` says where it failed.
   */
  private async replicate(
    conn: mysql.PoolConnection,
    target: string,
    plan: ReplicationPlan,
    step: { now: string },
    copyRows: (table: TablePlan) => Promise<number>,
  ): Promise<void> {
    await conn.query(`USE ${this.quote(target)}`);
    await conn.query(`SET SESSION foreign_key_checks = 0, unique_checks = 0, sql_mode = ?`, [DDL_MODE]);
    for (const table of plan.tables) {
      step.now = `creating table ${id(table.name)}`;
      await conn.query(table.create);
    }
    await conn.query("SET SESSION sql_mode = ?", [COPY_MODE]);
    for (const table of plan.tables) {
      if (table.rows === 0) continue;
      step.now = `copying the rows of ${id(table.name)}`;
      const copied = await copyRows(table);
      if (copied !== table.rows) throw new Error(`copied ${copied} rows, the template has ${table.rows}`);
    }
    await conn.query("SET SESSION sql_mode = ?", [DDL_MODE]);
    step.now = "creating views";
    await createViews(conn, plan.views);
    for (const program of plan.programs) {
      step.now = `creating ${program.kind} ${id(program.name)}`;
      await conn.query("SET SESSION sql_mode = ?", [program.sqlMode ?? DDL_MODE]);
      if (program.timeZone) await conn.query("SET SESSION time_zone = ?", [program.timeZone]);
      await conn.query(program.create);
    }
    step.now = "checking the copy";
    await this.verify(conn, target, plan);
  }

  /** The clone holds as many tables, views, triggers, routines and events as the plan. */
  private async verify(conn: mysql.PoolConnection, clone: string, plan: ReplicationPlan): Promise<void> {
    const [[found]] = await conn.query<Row[]>(
      `SELECT
        (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME <> ?) AS tables,
        (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'VIEW') AS views,
        (SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?) +
        (SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?) +
        (SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?) AS programs`,
      [clone, RECORD_TABLE, clone, clone, clone, clone],
    );
    const expected = {
      tables: plan.tables.length,
      views: plan.views.length,
      programs: plan.programs.length,
    };
    for (const key of ["tables", "views", "programs"] as const) {
      if (Number(found![key]) !== expected[key]) {
        throw new Error(`the copy has ${found![key]} ${key}, the template ${expected[key]}`);
      }
    }
  }

  async snapshotServer(): Promise<string> {
    const [[row]] = await this.pool.query<Row[]>("SELECT VERSION() AS v");
    const version = String(row!.v);
    const [major, minor] = version.split(".");
    return `${/mariadb/i.test(version) ? "MariaDB" : "MySQL"} ${major}.${minor}`;
  }

  /** A snapshot's payload: the template's replication plan, then its rows (snapshots-mysql.ts). */
  async dumpDatabase(name: string, out: Writable): Promise<void> {
    const source = this.quote(name);
    const plan = await this.plan(name);
    const conn = await this.pool.getConnection();
    try {
      // Rows in the text protocol's form, TIMESTAMPs in UTC whatever the server's zone.
      await conn.query("SET SESSION time_zone = '+00:00'");
      await writeLine(out, { plan });
      for (const table of plan.tables) {
        if (table.rows === 0) continue;
        // The callback connection underneath (mysql2's typings call it the promise one): it streams.
        const core = conn.connection as unknown as CoreConnection;
        const query = core.query({
          sql: `SELECT ${table.columns.map(id).join(", ")} FROM ${source}.${id(table.name)}`,
          rowsAsArray: true,
          typeCast: (field) => field.buffer(),
        });
        await writeRows(out, table.name, table.rows, query.stream({ highWaterMark: 256 }));
      }
      out.end();
    } finally {
      conn.destroy();
    }
  }

  /** A snapshot into the empty database `name`: the same replication as a clone's, rows from the file. */
  async restoreDatabase(name: string, input: Readable): Promise<void> {
    const step = { now: "reading the snapshot" };
    let conn: mysql.PoolConnection | undefined;
    try {
      const lines = new LineReader(input);
      const plan = parsePlan((await lines.next("its plan")).value);
      conn = await this.pool.getConnection();
      await conn.query("SET SESSION time_zone = '+00:00'");
      const insert = conn;
      await this.replicate(conn, name, plan, step, (table) =>
        readRows(lines, table.name, table.columns.length, table.rows, async (batch) => {
          const cols = table.columns.map(id).join(", ");
          const [result] = await insert.query<mysql.ResultSetHeader>(
            `INSERT INTO ${id(table.name)} (${cols}) VALUES ?`,
            [batch],
          );
          return result.affectedRows;
        }),
      );
      await lines.end();
    } catch (error) {
      throw new DatabaseTemplateException(`could not restore "${name}" (${step.now}): ${describe(error)}`);
    } finally {
      input.destroy();
      conn?.destroy();
    }
  }

  /** Named locks live on one connection of their own (MariaDB 10.0.2+/MySQL 5.7+ hold many). */
  private locker(): Promise<mysql.Connection> {
    const { connectionLimit: _unused, ...options } = connectionOptions(this.ctx);
    this.lockConnection ??= mysql.createConnection(options).then((c) => {
      c.on("error", () => undefined);
      return c;
    });
    return this.lockConnection;
  }

  async tryLock(name: string): Promise<HeldLock | null> {
    const conn = await this.locker();
    // GET_LOCK names are limited to 64 characters: use a digest of the template name.
    const key = "dct:" + createHash("sha256").update(name).digest("hex").slice(0, 56);
    const [[row]] = await conn.query<Row[]>("SELECT GET_LOCK(?, 0) AS ok", [key]);
    if (Number(row!.ok) !== 1) return null;
    return {
      release: async () => void (await conn.query("SELECT RELEASE_LOCK(?)", [key])),
    };
  }

  lock(name: string, onWait: () => void, timeoutMs: number): Promise<HeldLock> {
    return pollForLock(() => this.tryLock(name), onWait, timeoutMs, `the lock on "${name}"`);
  }

  /** Global grants, or schema grants whose pattern covers each name, for the user and its roles. */
  async missingPrivileges(names: string[]): Promise<PrivilegeReport> {
    const [[me]] = await this.pool.query<Row[]>("SELECT CURRENT_USER() AS u");
    const current = String(me!.u);
    const at = current.lastIndexOf("@");
    const grantees = [`'${current.slice(0, at)}'@'${current.slice(at + 1)}'`];
    try {
      const [roles] = await this.pool.query<Row[]>("SELECT * FROM information_schema.ENABLED_ROLES");
      for (const r of roles)
        grantees.push(`'${String(r.ROLE_NAME)}'@'${r.ROLE_HOST === undefined ? "" : String(r.ROLE_HOST)}'`);
    } catch {
      // Servers without roles (MySQL 5.7) have no such table.
    }
    const [grants] = await this.pool.query<Row[]>(
      "SELECT PRIVILEGE_TYPE AS p, NULL AS db FROM information_schema.USER_PRIVILEGES WHERE GRANTEE IN (?) UNION ALL SELECT PRIVILEGE_TYPE, TABLE_SCHEMA FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE IN (?)",
      [grantees, grantees],
    );
    const missing = MYSQL_NEEDED.filter((privilege) => {
      const held = grants.filter((g) => g.p === privilege);
      return !names.every((name) => held.some((g) => g.db === null || grantCovers(String(g.db), name)));
    });
    const scope = `${id(names[0] ? names[0].replace(/[\\%_]/g, (c) => "\\" + c) + "%" : "*")}.*`;
    return {
      role: current,
      missing,
      grant: `GRANT ${missing.join(", ")} ON ${scope} TO ${grantees[0]};`,
    };
  }

  async connectionRoom(): Promise<ConnectionRoom> {
    const [[limit]] = await this.pool.query<Row[]>("SELECT @@max_connections AS max");
    const [[used]] = await this.pool.query<Row[]>("SHOW GLOBAL STATUS LIKE 'Threads_connected'");
    return { limit: Number(limit!.max), inUse: Number(used?.Value ?? 0) };
  }

  async close(): Promise<void> {
    if (this.lockConnection) (await this.lockConnection.catch(() => null))?.destroy();
    await this.pool.end();
  }
}

/** What making, filling and dropping a clone takes (views, triggers and routines need more). */
export const MYSQL_NEEDED = ["CREATE", "DROP", "SELECT", "INSERT", "ALTER"];

/** A schema grant's name pattern: `%` and `_` are wildcards unless escaped with a backslash. */
export function grantCovers(pattern: string, name: string): boolean {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\" && i + 1 < pattern.length) re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    else if (c === "%") re += ".*";
    else if (c === "_") re += ".";
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, "is").test(name);
}

/** A plan read back from a snapshot: the shape dumpDatabase wrote, every definition a CREATE. */
function parsePlan(value: unknown): ReplicationPlan {
  const plan = (value as { plan?: ReplicationPlan } | null)?.plan;
  const creates = (list: unknown): boolean =>
    Array.isArray(list) &&
    list.every(
      (o: Partial<StoredObject & TablePlan>) =>
        typeof o?.name === "string" && typeof o.create === "string" && /^\s*CREATE\s/i.test(o.create),
    );
  const valid =
    plan &&
    typeof plan.charset === "string" &&
    typeof plan.collation === "string" &&
    creates(plan.tables) &&
    plan.tables.every((t) => Array.isArray(t.columns) && Number.isSafeInteger(t.rows)) &&
    creates(plan.views) &&
    creates(plan.programs);
  if (!valid) throw new Error("the snapshot's plan is not one this version wrote");
  return plan;
}

/** Views may select from other views: create what can be, repeat until all exist or none can. */
async function createViews(conn: mysql.PoolConnection, views: StoredObject[]): Promise<void> {
  let pending = views;
  while (pending.length > 0) {
    const failed: { view: StoredObject; error: unknown }[] = [];
    for (const view of pending) {
      try {
        await conn.query(view.create);
      } catch (error) {
        failed.push({ view, error });
      }
    }
    if (failed.length === pending.length) {
      throw new Error(`view ${id(failed[0]!.view.name)}: ${describe(failed[0]!.error)}`);
    }
    pending = failed.map((f) => f.view);
  }
}

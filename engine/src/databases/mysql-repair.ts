// MySQL and MariaDB: a kept clone that tests wrote to (a TransactionTestCase's flush emptied the
// rows the migrations wrote) is put back in place instead of being copied again. A copy creates
// every table, and DDL is where a MySQL copy spends its time; a repair only touches the tables
// whose rows differ. It is all or nothing: the clone's tables (SHOW CREATE TABLE less the
// AUTO_INCREMENT counter), views and triggers must be the template's, or the caller copies the
// clone afresh. Rows are compared by CHECKSUM TABLE and count, refilled from the template on the
// server with the triggers set aside (as a copy makes them after the rows), and checked again.
// Counters stay where the tests left them, as on a clean kept clone (a rollback does not rewind
// AUTO_INCREMENT either).
import mysql from "mysql2/promise";
import { COPY_MODE, DDL_MODE, id, withoutCounter, withoutDefiner } from "./mysql-definitions.ts";

type Row = mysql.RowDataPacket;

/** What a repair needs of the template (mysql.ts's ReplicationPlan). */
export interface RepairPlan {
  tables: readonly { name: string; create: string; columns: readonly string[]; rows: number }[];
  views: readonly { name: string }[];
  /** Triggers, routines and events, each as the template defines it (definer left out). */
  programs: readonly { kind: string; name: string; create: string; sqlMode?: string }[];
}

type Table = RepairPlan["tables"][number];

/**
 * Makes `clone` hold the template's rows again; false (its rows untouched) when its schema is
 * not the template's. `quoted`: the two names, checked and quoted by the backend; `recordTable`:
 * the engine's own table, never compared; `templateSums`: the template's checksums.
 */
export async function repairClone(
  conn: mysql.PoolConnection,
  quoted: { template: string; clone: string },
  plan: RepairPlan,
  recordTable: string,
  templateSums: () => Promise<Map<string, number | null>>,
): Promise<boolean> {
  await conn.query(`USE ${quoted.clone}`);
  if (!(await sameSchema(conn, plan, recordTable))) return false;
  const differing = await differingTables(conn, plan, templateSums);
  if (differing.length === 0) return true;
  const triggers = plan.programs.filter((p) => p.kind === "trigger");
  for (const trigger of triggers) await conn.query(`DROP TRIGGER ${id(trigger.name)}`);
  await conn.query("SET SESSION foreign_key_checks = 0, unique_checks = 0, sql_mode = ?", [COPY_MODE]);
  for (const table of differing) await refill(conn, quoted.template, table);
  for (const trigger of triggers) {
    await conn.query("SET SESSION sql_mode = ?", [trigger.sqlMode ?? DDL_MODE]);
    await conn.query(trigger.create);
  }
  // Every table, not only the refilled ones: nothing else may have moved meanwhile.
  return (await differingTables(conn, plan, templateSums)).length === 0;
}

async function refill(conn: mysql.PoolConnection, template: string, table: Table): Promise<void> {
  const cols = table.columns.map(id).join(", ");
  await conn.query(`DELETE FROM ${id(table.name)}`);
  await conn.query(`INSERT INTO ${id(table.name)} (${cols}) SELECT ${cols} FROM ${template}.${id(table.name)}`);
}

/** The current database's tables, views and programs are the plan's, definitions included. */
async function sameSchema(conn: mysql.PoolConnection, plan: RepairPlan, recordTable: string): Promise<boolean> {
  const [listed] = await conn.query<Row[]>("SHOW FULL TABLES");
  const tables: string[] = [];
  const views: string[] = [];
  for (const row of listed) {
    const [name, type] = Object.values(row).map(String) as [string, string];
    if (type === "VIEW") views.push(name);
    else if (name !== recordTable) tables.push(name);
  }
  if (!sameNames(tables, plan.tables) || !sameNames(views, plan.views)) return false;
  if (!(await samePrograms(conn, plan))) return false;
  for (const table of plan.tables) {
    const [[shown]] = await conn.query<Row[]>(`SHOW CREATE TABLE ${id(table.name)}`);
    if (withoutCounter(String(shown!["Create Table"])) !== withoutCounter(table.create)) return false;
  }
  return true;
}

function sameNames(names: string[], planned: readonly { name: string }[]): boolean {
  return JSON.stringify([...names].sort()) === JSON.stringify(planned.map((p) => p.name).sort());
}

/** Triggers as the template defines them (a refill drops and re-makes them); as many routines and events. */
async function samePrograms(conn: mysql.PoolConnection, plan: RepairPlan): Promise<boolean> {
  const [[counts]] = await conn.query<Row[]>(
    `SELECT
      (SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()) +
      (SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()) AS others`,
  );
  const planned = plan.programs.filter((p) => p.kind === "trigger");
  if (Number(counts!.others) !== plan.programs.length - planned.length) return false;
  const [found] = await conn.query<Row[]>(
    "SELECT TRIGGER_NAME AS n FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()",
  );
  if (
    !sameNames(
      found.map((r) => String(r.n)),
      planned,
    )
  )
    return false;
  for (const trigger of planned) {
    const [[shown]] = await conn.query<Row[]>(`SHOW CREATE TRIGGER ${id(trigger.name)}`);
    if (withoutDefiner(String(shown!["SQL Original Statement"])) !== trigger.create) return false;
  }
  return true;
}

/** Tables whose checksum or row count is not the template's. */
async function differingTables(
  conn: mysql.PoolConnection,
  plan: RepairPlan,
  templateSums: () => Promise<Map<string, number | null>>,
): Promise<readonly Table[]> {
  if (plan.tables.length === 0) return [];
  const names = plan.tables.map((t) => t.name);
  const [sums, mine, counts] = await Promise.all([templateSums(), checksums(conn, names), rowCounts(conn, names)]);
  // A checksum the server could not give (null) never counts as equal.
  const same = (table: string): boolean => mine.get(table) != null && mine.get(table) === sums.get(table);
  return plan.tables.filter((t) => counts.get(t.name) !== t.rows || !same(t.name));
}

/** CHECKSUM TABLE of `tables` in `database` (quoted; default the current one), null where none. */
export async function checksums(
  conn: mysql.PoolConnection | mysql.Pool,
  tables: readonly string[],
  database?: string,
): Promise<Map<string, number | null>> {
  const sums = new Map<string, number | null>();
  if (tables.length === 0) return sums;
  const prefix = database ? `${database}.` : "";
  const [rows] = await conn.query<Row[]>(`CHECKSUM TABLE ${tables.map((t) => prefix + id(t)).join(", ")}`);
  // One row per table, in the order asked; `Table` is "database.table".
  tables.forEach((table, i) => {
    const row = rows[i];
    const sum = row && String(row.Table).endsWith(`.${table}`) ? row.Checksum : null;
    sums.set(table, sum === null || sum === undefined ? null : Number(sum));
  });
  return sums;
}

async function rowCounts(conn: mysql.PoolConnection, tables: readonly string[]): Promise<Map<string, number>> {
  const [rows] = await conn.query<Row[]>(
    tables.map((t) => `SELECT ${mysql.escape(t)} AS t, COUNT(*) AS n FROM ${id(t)}`).join(" UNION ALL "),
  );
  return new Map(rows.map((r) => [String(r.t), Number(r.n)]));
}

// The rows of a MySQL/MariaDB snapshot. The payload is JSON lines: the replication plan
// (mysql.ts, the same one clones are made from), then for each table with rows a line
// {"table": name, "rows": n} and one JSON array per row. A value is the server's own text for
// the column (what the text protocol sends, read and written in UTC), or {"b64": ...} for
// bytes that are not UTF-8 (binary columns), so every row goes back exactly as it was.
import { isUtf8 } from "node:buffer";
import { once } from "node:events";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";

export type RowValue = string | Buffer | null;
type Encoded = string | { b64: string } | null;

/** One INSERT carries about this much: far below MySQL's smallest max_allowed_packet (4 MiB). */
const BATCH_BYTES = 1024 * 1024;
const BATCH_ROWS = 2000;

export function encodeValue(value: Buffer | null): Encoded {
  if (value === null) return null;
  return isUtf8(value) ? value.toString("utf8") : { b64: value.toString("base64") };
}

export function decodeValue(value: unknown): RowValue {
  if (value === null || typeof value === "string") return value;
  const b64 = (value as { b64?: unknown } | undefined)?.b64;
  if (typeof b64 === "string") return Buffer.from(b64, "base64");
  throw new Error(`a row value is neither text, bytes nor NULL: ${JSON.stringify(value)}`);
}

/** One line, waiting while the stream is full (a large table never sits in memory). */
export async function writeLine(out: Writable, value: unknown): Promise<void> {
  if (!out.write(JSON.stringify(value) + "\n")) await once(out, "drain");
}

/** A table's header line and its rows; the count must be the plan's. */
export async function writeRows(
  out: Writable,
  table: string,
  expected: number,
  rows: AsyncIterable<(Buffer | null)[]>,
): Promise<void> {
  await writeLine(out, { table, rows: expected });
  let count = 0;
  for await (const row of rows) {
    await writeLine(out, row.map(encodeValue));
    count++;
  }
  if (count !== expected) throw new Error(`read ${count} rows of ${table}, the plan counted ${expected}`);
}

/** The payload's lines, each parsed; running out early is an error naming what was missing. */
export class LineReader {
  private readonly lines: AsyncIterator<string>;

  constructor(input: Readable) {
    this.lines = createInterface({ input, crlfDelay: Infinity })[Symbol.asyncIterator]();
  }

  async next(what: string): Promise<{ value: unknown; bytes: number }> {
    const line = await this.lines.next();
    if (line.done) throw new Error(`the snapshot ends before ${what}`);
    return { value: JSON.parse(line.value) as unknown, bytes: line.value.length };
  }

  /** Nothing may follow the last table. */
  async end(): Promise<void> {
    const line = await this.lines.next();
    if (!line.done) throw new Error("the snapshot has lines after its last table");
  }
}

/** A table's rows from the payload, handed to `insert` in batches; returns the rows inserted. */
export async function readRows(
  lines: LineReader,
  table: string,
  columns: number,
  expected: number,
  insert: (batch: RowValue[][]) => Promise<number>,
): Promise<number> {
  const header = (await lines.next(`the rows of ${table}`)).value as { table?: unknown; rows?: unknown };
  if (header?.table !== table || header.rows !== expected) {
    throw new Error(`expected the ${expected} rows of ${table}, found ${JSON.stringify(header)}`);
  }
  let inserted = 0;
  let batch: RowValue[][] = [];
  let bytes = 0;
  for (let read = 0; read < expected; read++) {
    const line = await lines.next(`row ${read + 1} of ${table}`);
    if (!Array.isArray(line.value) || line.value.length !== columns) {
      throw new Error(`row ${read + 1} of ${table} does not have its ${columns} columns`);
    }
    batch.push(line.value.map(decodeValue));
    bytes += line.bytes;
    if (bytes >= BATCH_BYTES || batch.length >= BATCH_ROWS) {
      inserted += await insert(batch);
      batch = [];
      bytes = 0;
    }
  }
  if (batch.length > 0) inserted += await insert(batch);
  return inserted;
}

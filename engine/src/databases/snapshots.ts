// Template snapshot files: one per template in the project's cache folder
// (.django-concurrent-test/snapshots/<template name>.<vendor>.snapshot), so a fresh database
// server can get a template back without migrating. A file is a fixed-size JSON manifest
// (format version, vendor, server, fingerprint, template, payload size and sha256) followed by
// the payload its backend wrote: a pg_dump archive, the MySQL/MariaDB replication stream, or
// the SQLite file itself. It is written to a temporary file and renamed, so a reader sees a
// whole snapshot or none, and it is used only when every manifest field matches this run and
// the payload's size and checksum check out; anything else is a reason to migrate instead.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Transform, type Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { HASH_LENGTH } from "./naming.ts";

/** Bumped whenever the container or any backend's payload changes shape. */
export const SNAPSHOT_FORMAT = 1;
export const HEADER_SIZE = 1024;
const MAGIC = "django-concurrent-test snapshot";
const SUFFIX = ".snapshot";
/** A temporary file this old was left by a run that died while writing it. */
const STALE_TEMP_MS = 60 * 60 * 1000;

/** What a snapshot must have been made for to stand in for this run's template. */
export interface SnapshotIdentity {
  vendor: string;
  /** The server's kind and major version (migrations may emit different SQL on another). */
  server: string;
  /** The template's full fingerprint hash. */
  fingerprint: string;
  /** The template's name (a SQLite template: its file name). */
  template: string;
}

export interface SnapshotManifest extends SnapshotIdentity {
  magic: string;
  format: number;
  created: string;
  /** Payload bytes after the header. */
  size: number;
  /** sha256 of the payload, hex. */
  sha256: string;
}

export type OpenedSnapshot =
  { ok: true; manifest: SnapshotManifest; payload: () => Readable } | { ok: false; reason: string };

/** The snapshots folder inside a project's cache folder (where timings.json lives). */
export function snapshotsDir(cacheDir: string): string {
  return path.join(cacheDir, "snapshots");
}

/** A template name as the manifest and the file name carry it (SQLite: the file's own name). */
export function snapshotTemplateName(vendor: string, name: string): string {
  return vendor === "sqlite" ? path.basename(name, ".sqlite3") : name;
}

export function snapshotPath(dir: string, vendor: string, template: string): string {
  return path.join(dir, `${snapshotTemplateName(vendor, template)}.${vendor}${SUFFIX}`);
}

function encodeHeader(manifest: SnapshotManifest): Buffer {
  const text = JSON.stringify(manifest);
  if (Buffer.byteLength(text) >= HEADER_SIZE) throw new Error("the snapshot manifest does not fit its header");
  const header = Buffer.alloc(HEADER_SIZE, " ");
  header.write(text, 0, "utf8");
  header.write("\n", HEADER_SIZE - 1);
  return header;
}

/**
 * Writes a snapshot: `produce` writes the payload into the stream it is given and ends it. The
 * file appears (by rename) only once it is whole; on any error nothing is left behind.
 */
export async function writeSnapshot(
  file: string,
  identity: SnapshotIdentity,
  produce: (out: Writable) => Promise<void>,
): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`;
  const hash = createHash("sha256");
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  const written = pipeline(meter, createWriteStream(temporary, { start: HEADER_SIZE, mode: 0o600 }));
  try {
    await produce(meter);
    await written;
    const manifest: SnapshotManifest = {
      magic: MAGIC,
      format: SNAPSHOT_FORMAT,
      ...identity,
      created: new Date().toISOString(),
      size,
      sha256: hash.digest("hex"),
    };
    const handle = await open(temporary, "r+");
    try {
      await handle.write(encodeHeader(manifest), 0, HEADER_SIZE, 0);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (error) {
    meter.destroy();
    await written.catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
}

async function readManifest(file: string): Promise<SnapshotManifest | string> {
  const handle = await open(file, "r");
  try {
    const header = Buffer.alloc(HEADER_SIZE);
    const { bytesRead } = await handle.read(header, 0, HEADER_SIZE, 0);
    if (bytesRead < HEADER_SIZE) return "the file is truncated (no whole header)";
    let value: unknown;
    try {
      value = JSON.parse(header.toString("utf8").trimEnd());
    } catch {
      return "its header is damaged";
    }
    const m = value as Partial<SnapshotManifest> | null;
    if (!m || typeof m !== "object" || m.magic !== MAGIC) return "it is not a django-concurrent-test snapshot";
    return m as SnapshotManifest;
  } finally {
    await handle.close();
  }
}

/** Why the manifest does not fit this run, or null when it does. */
function mismatch(m: SnapshotManifest, expected: SnapshotIdentity): string | null {
  if (m.format !== SNAPSHOT_FORMAT) return `unknown format version ${JSON.stringify(m.format)}`;
  if (m.vendor !== expected.vendor) return `it was made for ${String(m.vendor)}, not ${expected.vendor}`;
  if (m.fingerprint !== expected.fingerprint) return "it was made for other migrations (fingerprint differs)";
  if (m.template !== expected.template) return `it was made for template ${JSON.stringify(m.template)}`;
  if (m.server !== expected.server) return `it was made on ${String(m.server)}, this server is ${expected.server}`;
  if (!Number.isSafeInteger(m.size) || m.size < 0 || typeof m.sha256 !== "string") return "its header is damaged";
  return null;
}

async function payloadDigest(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file, { start: HEADER_SIZE }), hash);
  return hash.digest("hex");
}

/**
 * The snapshot at `file` if it may stand in for the template `expected` describes: null when
 * there is none, a reason when it must be ignored (wrong fingerprint, vendor or server, unknown
 * format, truncated or damaged), else the manifest and a reader of its verified payload.
 */
export async function openSnapshot(file: string, expected: SnapshotIdentity): Promise<OpenedSnapshot | null> {
  let bytes: number;
  try {
    bytes = (await stat(file)).size;
  } catch {
    return null;
  }
  const manifest = await readManifest(file);
  if (typeof manifest === "string") return { ok: false, reason: manifest };
  const wrong = mismatch(manifest, expected);
  if (wrong) return { ok: false, reason: wrong };
  if (bytes !== HEADER_SIZE + manifest.size) {
    const what = bytes < HEADER_SIZE + manifest.size ? "truncated" : "longer than its header says";
    return { ok: false, reason: `the file is ${what} (${bytes - HEADER_SIZE} of ${manifest.size} payload bytes)` };
  }
  if ((await payloadDigest(file)) !== manifest.sha256) return { ok: false, reason: "its checksum does not match" };
  return { ok: true, manifest, payload: () => createReadStream(file, { start: HEADER_SIZE }) };
}

/** Other snapshots of the same template (`<base>_<hash>`, same vendor): older fingerprints. */
export async function otherFingerprints(dir: string, file: string, base: string): Promise<string[]> {
  const name = path.basename(file);
  const ending = name.slice(name.indexOf(".", base.length));
  const sameTemplate = new RegExp(`^${escape(base)}_[0-9a-f]{${HASH_LENGTH}}${escape(ending)}$`);
  const entries = await readdir(dir).catch(() => [] as string[]);
  return entries.filter((e) => e !== name && sameTemplate.test(e)).map((e) => path.join(dir, e));
}

/**
 * Once a new snapshot is saved: the template's older fingerprints, and temporary files a killed
 * run left, are removed, so the folder (and a CI cache of it) holds one snapshot per template.
 */
export async function removeStaleSnapshots(dir: string, kept: string, base: string): Promise<string[]> {
  const stale = await otherFingerprints(dir, kept, base);
  for (const entry of await readdir(dir).catch(() => [] as string[])) {
    if (!entry.endsWith(".tmp")) continue;
    const modified = await stat(path.join(dir, entry)).then(
      (s) => s.mtimeMs,
      () => Date.now(),
    );
    if (Date.now() - modified > STALE_TEMP_MS) stale.push(path.join(dir, entry));
  }
  await Promise.all(stale.map((file) => rm(file, { force: true })));
  return stale;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** `cleanup --all`: every snapshot of the project. */
export async function removeSnapshots(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

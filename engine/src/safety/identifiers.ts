// Name sanitization: every database name the run creates or drops is checked here before any SQL
// is built (and then quoted by the driver's own escaping all the same). Hostile names are refused,
// never repaired: quotes, semicolons, backticks, NUL, control characters, non-ASCII look-alikes
// and names the server would truncate or reject for length.
import path from "node:path";
import { SecurityException } from "../core/errors.ts";

/** Longest database name per server: PostgreSQL silently truncates past NAMEDATALEN - 1 bytes. */
export const NAME_LIMITS: Readonly<Record<string, { max: number; unit: "bytes" | "characters"; label: string }>> = {
  postgresql: { max: 63, unit: "bytes", label: "PostgreSQL" },
  mysql: { max: 64, unit: "characters", label: "MySQL/MariaDB" },
};

/** A file name's limit on Linux and macOS (NAME_MAX). */
const SQLITE_FILE_NAME_MAX = 255;

/** Server database names: ASCII letters, digits, underscore and (not first) hyphen. */
const SERVER_NAME_CHAR = /[A-Za-z0-9_-]/;
/** SQLite test file names may also hold the extension's dot. */
const SQLITE_NAME_CHAR = /[A-Za-z0-9_.-]/;
/** A vendor the engine does not know may take a server name or a file path: both are allowed,
 * with nothing else (its quoting rules are unknown, so no directory is exempt either). */
const OTHER_NAME_CHAR = /[A-Za-z0-9_./-]/;

/** The vendors whose names are files: SQLite's, and any the engine has no limit for. */
export function judgedAsFile(vendor: string): boolean {
  return vendor === "sqlite" || !(vendor in NAME_LIMITS);
}

const NAMED: Readonly<Record<string, string>> = {
  "'": "a single quote",
  '"': "a double quote",
  "`": "a backtick",
  ";": "a semicolon",
  "\\": "a backslash",
  " ": "a space",
  "\0": "a NUL byte",
};

/** A name as a one-line message shows it: quoted, anything outside printable ASCII escaped. */
export function shown(text: string): string {
  return JSON.stringify(text).replace(/[^\x20-\x7e]/gu, (ch) => `\\u{${ch.codePointAt(0)!.toString(16)}}`);
}

function codePoint(ch: string): string {
  return "U+" + ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
}

/** How a refused character reads in a one-line message. */
export function describeCharacter(ch: string): string {
  const named = NAMED[ch];
  if (named) return `${named} (${codePoint(ch)})`;
  const cp = ch.codePointAt(0)!;
  if (cp < 0x20 || cp === 0x7f || (cp >= 0x80 && cp < 0xa0)) return `a control character (${codePoint(ch)})`;
  if (cp > 0x7f) return `the non-ASCII character ${codePoint(ch)} (a possible look-alike)`;
  return `the character ${shown(ch)}`;
}

function firstBad(text: string, allowed: RegExp): [string, number] | null {
  let index = 0;
  for (const ch of text) {
    if (!allowed.test(ch)) return [ch, index];
    index++;
  }
  return null;
}

/** NUL and control characters are never part of a name or path the engine accepts. */
export function controlCharacterReason(name: string): string | null {
  const bad = /[\u0000-\u001f\u007f-\u009f]/u.exec(name);
  return bad ? `it contains ${describeCharacter(bad[0])} at position ${bad.index + 1}` : null;
}

/** Why `name` is not a safe database name for `vendor`, or null when it is. */
export function unsafeNameReason(name: string, vendor: string): string | null {
  if (name === "") return "it is empty";
  const control = controlCharacterReason(name);
  if (control) return control;
  if (vendor === "sqlite") {
    const base = path.basename(name);
    const bad = firstBad(base, SQLITE_NAME_CHAR);
    if (bad)
      return `its file name contains ${describeCharacter(bad[0])} (allowed: ASCII letters, digits, "_", "-", ".")`;
    const bytes = Buffer.byteLength(base);
    if (bytes > SQLITE_FILE_NAME_MAX)
      return `its file name is ${bytes} bytes long; the limit is ${SQLITE_FILE_NAME_MAX}`;
    return null;
  }
  const limit = NAME_LIMITS[vendor];
  const bad = firstBad(name, limit ? SERVER_NAME_CHAR : OTHER_NAME_CHAR);
  if (bad) return `it contains ${describeCharacter(bad[0])} at position ${bad[1] + 1}`;
  if (name.startsWith("-")) return 'it starts with "-"';
  if (limit) {
    const length = limit.unit === "bytes" ? Buffer.byteLength(name) : [...name].length;
    if (length > limit.max) {
      return `it is ${length} ${limit.unit} long; ${limit.label} allows ${limit.max}`;
    }
  }
  return null;
}

export const SAFE_NAME_HINT =
  'database names may use ASCII letters, digits, "_" and "-", at most 63 bytes for PostgreSQL and 64 characters for MySQL/MariaDB, clone suffix included';

/** Throws a SecurityException naming the problem unless `name` is safe to put in SQL. */
export function assertSafeName(name: string, vendor: string, where: string, display = name): void {
  const reason = unsafeNameReason(name, vendor);
  if (reason) {
    throw new SecurityException(`unsafe database name ${shown(display)} (${where}): ${reason}`, SAFE_NAME_HINT);
  }
}

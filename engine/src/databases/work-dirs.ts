// The engine's work directories under the system temp directory: SQLite template files and
// clones live there, per project under --keepdb, otherwise per run (removed once its run is gone).
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { currentOwner, ownerLiveness } from "./owner.ts";
import type { Owner } from "./records.ts";

/**
 * Where SQLite template files live: per project and stable across runs under --keepdb (so the
 * template is reused), otherwise private to this run (so two runs never share a file). A run's
 * private directory records its owner, so a later run removes it if the run was killed.
 */
export function workDirFor(cwd: string, settingsModule: string, keepdb: boolean): string {
  const root = workRoot();
  sweepRunDirs(root);
  if (!keepdb) {
    const dir = mkdtempSync(path.join(root, "run-"));
    writeFileSync(path.join(dir, OWNER_FILE), JSON.stringify(currentOwner()), {
      mode: 0o600,
    });
    return dir;
  }
  const dir = path.join(root, projectKey(cwd, settingsModule));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

export function workRoot(): string {
  const root = path.join(os.tmpdir(), "django-concurrent-test");
  mkdirSync(root, { recursive: true, mode: 0o700 });
  return root;
}

export function projectKey(cwd: string, settingsModule: string): string {
  return createHash("sha256").update(`${cwd}\0${settingsModule}`).digest("hex").slice(0, 12);
}

const OWNER_FILE = "owner.json";

/** Private work directories of runs whose process is gone (killed): removed. */
export function sweepRunDirs(root: string): string[] {
  const removed: string[] = [];
  for (const entry of readdirSync(root)) {
    if (!entry.startsWith("run-")) continue;
    const dir = path.join(root, entry);
    let owner: Owner;
    try {
      owner = JSON.parse(readFileSync(path.join(dir, OWNER_FILE), "utf8")) as Owner;
    } catch {
      continue; // no owner recorded: not judged
    }
    if (ownerLiveness(owner) === "gone") {
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    }
  }
  return removed;
}

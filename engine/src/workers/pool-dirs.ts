// The pool's folder in the temporary directory: the workers' socket, their stack files and what
// they hold of their tests' output before attach. The pool removes it when it stops; a run killed
// with SIGKILL cannot, so its name carries the engine's pid and the next run removes the folders
// of engines that are gone.
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pidExists } from "../databases/owner.ts";

const POOL_DIR = /^dct-(\d+)-[A-Za-z0-9]{6}$/;

/** A fresh folder for this run's pool, after removing those of runs that were killed. */
export function makePoolDir(tmp: string = os.tmpdir()): string {
  removeOrphanedPoolDirs(tmp);
  return mkdtempSync(path.join(tmp, `dct-${process.pid}-`));
}

/** Removes the pool folders, of this user, whose engine process no longer exists. */
export function removeOrphanedPoolDirs(tmp: string): string[] {
  let names: string[];
  try {
    names = readdirSync(tmp);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = Number(POOL_DIR.exec(name)?.[1] ?? 0);
    if (!pid || pid === process.pid || pidExists(pid)) continue;
    const dir = path.join(tmp, name);
    try {
      // Another user's folder is not ours to remove (and getuid is missing on Windows: keep all).
      if (statSync(dir).uid !== process.getuid?.()) continue;
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // Gone meanwhile (another run removed it first).
    }
  }
  return removed;
}

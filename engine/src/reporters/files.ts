// Writing a report file (JUnit, HTML, merged reports) where the user asked for it.
import { mkdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * Creates the report's missing parent directories one by one (Node's recursive mkdir never
 * returns for some impossible paths, e.g. under /proc), then writes the report.
 */
export async function writeReportFile(file: string, text: string): Promise<void> {
  const missing: string[] = [];
  for (let dir = path.dirname(path.resolve(file)); !(await stat(dir).catch(() => undefined)); dir = path.dirname(dir)) {
    missing.unshift(dir);
    if (path.dirname(dir) === dir) break;
  }
  for (const dir of missing) {
    await mkdir(dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw error;
    });
  }
  await writeFile(file, text);
}

// Every database name a run will meet, known before anything is created: the configured NAME
// and TEST TEMPLATE, the test database name (TEST NAME or Django's "test_" + NAME) and each
// worker's clone of the template made from it.
import path from "node:path";
import { HASH_LENGTH, serverCloneName, serverTemplateName, sqliteCloneName } from "../databases/naming.ts";
import type { ProjectSettings } from "../protocol/messages.ts";
import { NAME_LIMITS } from "./identifiers.ts";

export interface PlannedName {
  alias: string;
  vendor: string;
  name: string;
  /** How a message shows the name when it differs (a clone's hash is not known yet). */
  display?: string;
  /** How the refusal names it, e.g. `DATABASES["default"] TEST NAME`. */
  where: string;
  /** Created or dropped by the run (the template, the engine's clones). */
  created: boolean;
}

/** Django's own prefix for a test database whose TEST NAME is unset. */
const TEST_DATABASE_PREFIX = "test_";
/** Stands for the template hash, which needs the migrated template. */
const SOME_HASH = "0".repeat(HASH_LENGTH);
const SHOWN_HASH = "<hash>";

function isMemoryName(name: string | null): boolean {
  return !name || name === ":memory:" || name.includes("mode=memory");
}

/** The test database name Django would use (null: SQLite in memory, or no NAME). */
export function plannedTestName(vendor: string, name: string | null, testName: string | null): string | null {
  if (vendor === "sqlite") return isMemoryName(testName) ? null : testName;
  if (testName) return !(vendor in NAME_LIMITS) && isMemoryName(testName) ? null : testName;
  // A file path under a vendor the engine does not know: its own creation code names the test
  // database (SQLite's puts it in memory); "test_" + a path is no name any backend uses.
  if (!name || (!(vendor in NAME_LIMITS) && name.includes("/"))) return null;
  return TEST_DATABASE_PREFIX + name;
}

function clones(alias: string, vendor: string, where: string, template: string, workers: number): PlannedName[] {
  const planned: PlannedName[] = [];
  for (let slot = 1; slot <= workers; slot++) {
    const name = vendor === "sqlite" ? sqliteCloneName(template, slot) : serverCloneName(template, slot);
    const display = name.replace(SOME_HASH, SHOWN_HASH);
    planned.push({
      alias,
      vendor,
      name,
      display,
      where: `${where} clone for worker ${slot}`,
      created: true,
    });
  }
  return planned;
}

export function plannedNames(settings: ProjectSettings, workers: number): PlannedName[] {
  const planned: PlannedName[] = [];
  for (const [alias, db] of Object.entries(settings.databases)) {
    const where = `DATABASES["${alias}"]`;
    const { vendor } = db;
    const name = db.name === null ? null : String(db.name);
    if (name)
      planned.push({
        alias,
        vendor,
        name,
        where: `${where} NAME`,
        created: false,
      });
    // The source PostgreSQL copies a new test database from: never production data.
    if (db.test.template) {
      planned.push({
        alias,
        vendor,
        name: db.test.template,
        where: `${where} TEST TEMPLATE`,
        created: false,
      });
    }
    if (db.test.mirror) continue; // a mirror connects to another alias's test database
    const testName = plannedTestName(vendor, name, db.test.name);
    if (vendor === "sqlite" && testName === null) {
      // In memory: a template file test_<alias>_<hash>.sqlite3 that workers load into memory.
      const file = path.join("/", `test_${alias}_${SOME_HASH}.sqlite3`);
      const display = file.replace(SOME_HASH, SHOWN_HASH);
      planned.push({
        alias,
        vendor,
        name: file,
        display,
        where: `${where} template file`,
        created: true,
      });
      continue;
    }
    if (testName === null) continue;
    const what = db.test.name ? "TEST NAME" : "test database name";
    planned.push({
      alias,
      vendor,
      name: testName,
      where: `${where} ${what}`,
      created: true,
    });
    if (vendor !== "sqlite" && !(vendor in NAME_LIMITS)) continue; // not cloned: falls back
    const template = vendor === "sqlite" ? testName : serverTemplateName(vendor, testName, SOME_HASH);
    planned.push(...clones(alias, vendor, where, template, workers));
  }
  return planned;
}

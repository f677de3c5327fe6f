// Which database names the engine may create or drop. Built-in production patterns can be
// added to but never removed; a name must look like a test database to be touched at all.
import path from "node:path";
import { SecurityException } from "../errors.ts";

export const PRODUCTION_PATTERNS: readonly string[] = [
  "^prod_",
  "^production",
  "^live_",
  "^staging_",
  "_prod$",
  "_production$",
  "_live$",
  "_staging$",
];

export const TEST_PATTERNS: readonly string[] = ["^test_", "^dev_test", "^ci_test", "_test$", "_testing$"];

export interface NamePolicy {
  production: RegExp[];
  test: RegExp[];
}

function compile(patterns: readonly string[], setting: string): RegExp[] {
  return patterns.map((p) => {
    try {
      return new RegExp(p, "i");
    } catch {
      throw new SecurityException(`CONCURRENT_TEST_CONFIG["${setting}"] has an invalid pattern: ${p}`);
    }
  });
}

export function namePolicy(extraProduction: string[] = [], extraTest: string[] = []): NamePolicy {
  return {
    production: compile([...PRODUCTION_PATTERNS, ...extraProduction], "production_patterns"),
    test: compile([...TEST_PATTERNS, ...extraTest], "test_patterns"),
  };
}

/** The part of a name the patterns judge: a SQLite file's base name without extension. */
export function judgedName(name: string, vendor: string): string {
  if (vendor !== "sqlite") return name;
  const base = path.basename(name);
  return base.replace(/\.(sqlite3?|db)$/i, "");
}

export function looksLikeProduction(name: string, vendor: string, policy: NamePolicy): boolean {
  const judged = judgedName(name, vendor);
  return policy.production.some((re) => re.test(judged));
}

export function looksLikeTest(name: string, vendor: string, policy: NamePolicy): boolean {
  const judged = judgedName(name, vendor);
  return policy.test.some((re) => re.test(judged));
}

/** Throws unless the engine may create or drop a database of this name. */
export function assertTestDatabaseName(name: string, vendor: string, policy: NamePolicy): void {
  if (looksLikeProduction(name, vendor, policy)) {
    throw new SecurityException(
      `refusing to touch database "${name}": it matches a production pattern`,
      "test databases must not look like production ones (prod_, production, live_, staging_, ...)",
    );
  }
  if (!looksLikeTest(name, vendor, policy)) {
    throw new SecurityException(
      `refusing to touch database "${name}": it does not match a test database pattern`,
      'name test databases test_* (or add a pattern to CONCURRENT_TEST_CONFIG["test_patterns"])',
    );
  }
}

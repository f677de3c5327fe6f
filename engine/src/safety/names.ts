// Which database names the engine may create or drop. Built-in production patterns can be
// added to but never removed; a name must look like a test database to be touched at all.
import path from "node:path";
import { ConfigError, SecurityException } from "../core/errors.ts";
import { assertSafeName, judgedAsFile, shown } from "./identifiers.ts";

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

/** The engine's own suffix on clone names: <template>_<worker slot>. */
const CLONE_SUFFIX = /_\d+$/;

export interface NamePolicy {
  production: RegExp[];
  test: RegExp[];
}

function compile(patterns: readonly string[], setting: string): RegExp[] {
  return patterns.map((p) => {
    try {
      return new RegExp(p, "i");
    } catch {
      throw new ConfigError(
        `CONCURRENT_TEST_CONFIG["${setting}"] has an invalid regular expression: ${shown(p)}`,
        "patterns are JavaScript regular expressions, matched case-insensitively",
      );
    }
  });
}

/** User patterns extend the built-in lists; nothing can remove a built-in production pattern. */
export function namePolicy(extraProduction: string[] = [], extraTest: string[] = []): NamePolicy {
  return {
    production: compile([...PRODUCTION_PATTERNS, ...extraProduction], "production_patterns"),
    test: compile([...TEST_PATTERNS, ...extraTest], "test_patterns"),
  };
}

/** The part of a name the patterns judge: a SQLite file's base name without extension. */
export function judgedName(name: string, vendor: string): string {
  if (!judgedAsFile(vendor)) return name;
  const base = path.basename(name);
  return base.replace(/\.(sqlite3?|db)$/i, "");
}

/** The judged name, and for a clone also the name without the engine's own suffix. */
function judgedForms(name: string, vendor: string): string[] {
  const judged = judgedName(name, vendor);
  const stripped = judged.replace(CLONE_SUFFIX, "");
  return stripped === judged ? [judged] : [judged, stripped];
}

export function productionPatternOf(name: string, vendor: string, policy: NamePolicy): RegExp | undefined {
  const forms = judgedForms(name, vendor);
  return policy.production.find((re) => forms.some((form) => re.test(form)));
}

export function looksLikeProduction(name: string, vendor: string, policy: NamePolicy): boolean {
  return productionPatternOf(name, vendor, policy) !== undefined;
}

export function looksLikeTest(name: string, vendor: string, policy: NamePolicy): boolean {
  const forms = judgedForms(name, vendor);
  return policy.test.some((re) => forms.some((form) => re.test(form)));
}

export const PRODUCTION_HINT =
  "test databases must not look like production (prod_*, production*, live_*, staging_*, *_prod, *_production, *_live, *_staging); use development settings";
export const TEST_NAME_HINT =
  'name test databases test_* or *_test (or add a pattern to CONCURRENT_TEST_CONFIG["test_patterns"])';

/**
 * Throws unless the engine may create or drop a database of this name: safe characters and
 * length, no production pattern, a test pattern. The backends (databases/) call it before every
 * statement.
 */
export function assertTestDatabaseName(name: string, vendor: string, policy: NamePolicy): void {
  assertSafeName(name, vendor, "refusing to create or drop it");
  const production = productionPatternOf(name, vendor, policy);
  if (production) {
    throw new SecurityException(
      `refusing to touch database ${shown(name)}: it matches the production pattern /${production.source}/`,
      PRODUCTION_HINT,
    );
  }
  if (!looksLikeTest(name, vendor, policy)) {
    throw new SecurityException(
      `refusing to touch database ${shown(name)}: it matches no test database pattern`,
      TEST_NAME_HINT,
    );
  }
}

// settings.CONCURRENT_TEST_CONFIG, validated by a JSON Schema so a typo is an error, not a no-op.
import { Ajv, type ErrorObject } from "ajv";
import { ConfigError } from "../core/errors.ts";

export interface SettingsConfig {
  enabled?: boolean;
  workers?: number;
  timeout?: number;
  crash_retries?: number;
  /** TransactionTestCase flushes empty only the tables that hold rows (default true). */
  fast_flush?: boolean;
  benchmark?: boolean;
  junit_xml?: string;
  html?: string;
  start_method?: "fork" | "spawn";
  allow_debug_false?: boolean;
  production_patterns?: string[];
  test_patterns?: string[];
  allowed_hosts?: string[];
  race?: RaceSettings;
  /** PostgreSQL 15+: how clones are copied (docs/databases.md has the measurements). */
  postgres_clone_strategy?: "wal_log" | "file_copy";
  /** PostgreSQL: false lets clones commit without waiting for the WAL flush. */
  postgres_synchronous_commit?: boolean;
  /** Template snapshots in .django-concurrent-test/snapshots/: restored instead of migrating. */
  snapshots?: boolean;
}

/** CONCURRENT_TEST_CONFIG["race"]: read by the Python RaceConditionMiddleware and race()
 * (python/django_concurrent_test/race/config.py checks the same keys). */
export interface RaceSettings {
  enabled?: boolean;
  seed?: number;
  probability?: number;
  max_delay?: number;
  include_paths?: string[];
  exclude_paths?: string[];
  only_in_race?: boolean;
}

/** More worker processes than any one machine runs usefully: a typo, refused before anything
 * is planned per worker (names, clones), which would otherwise exhaust memory first. */
export const MAX_WORKERS = 1024;

// Non-empty: an empty pattern would match every name, an empty host nothing meaningful.
const stringList = { type: "array", items: { type: "string", minLength: 1 } } as const;

// Path patterns are Python regular expressions: the Python side compiles and checks them.
const RACE_SCHEMA = {
  type: "object",
  additionalProperties: false,
  properties: {
    enabled: { type: "boolean" },
    seed: { type: "integer", minimum: 0 },
    probability: { type: "number", minimum: 0, maximum: 1 },
    max_delay: { type: "number", minimum: 0, maximum: 10 },
    include_paths: stringList,
    exclude_paths: stringList,
    only_in_race: { type: "boolean" },
  },
} as const;

export const SETTINGS_SCHEMA = {
  type: "object",
  additionalProperties: false,
  properties: {
    enabled: { type: "boolean" },
    workers: { type: "integer", minimum: 1, maximum: MAX_WORKERS },
    timeout: { type: "number", exclusiveMinimum: 0 },
    crash_retries: { type: "integer", minimum: 0 },
    fast_flush: { type: "boolean" },
    benchmark: { type: "boolean" },
    junit_xml: { type: "string", minLength: 1 },
    html: { type: "string", minLength: 1 },
    start_method: { enum: ["fork", "spawn"] },
    allow_debug_false: { type: "boolean" },
    production_patterns: stringList,
    test_patterns: stringList,
    allowed_hosts: stringList,
    race: RACE_SCHEMA,
    postgres_clone_strategy: { enum: ["wal_log", "file_copy"] },
    postgres_synchronous_commit: { type: "boolean" },
    snapshots: { type: "boolean" },
  },
} as const;

// verbose: a type error can show the value it refused (e.g. "inf", sent for float("inf")).
const validate = new Ajv({ allErrors: false, verbose: true }).compile<SettingsConfig>(SETTINGS_SCHEMA);

/** The keys the (sub)schema owning an additionalProperties error allows. */
function knownKeys(schemaPath: string): string {
  let node: unknown = SETTINGS_SCHEMA;
  for (const part of schemaPath.replace(/^#\//, "").split("/").slice(0, -1)) {
    node = (node as Record<string, unknown>)[part];
  }
  return Object.keys((node as { properties: object }).properties).join(", ");
}

function describe(error: ErrorObject): string {
  const where = error.instancePath ? `["${error.instancePath.slice(1).replace(/\//g, '"]["')}"]` : "";
  if (error.keyword === "additionalProperties") {
    const key = (error.params as { additionalProperty: string }).additionalProperty;
    return `${where}${where ? ": " : ""}unknown key "${key}" (known keys: ${knownKeys(error.schemaPath)})`;
  }
  const refused = error.keyword === "type" ? `, not ${JSON.stringify(error.data)}` : "";
  return `${where} ${error.message ?? "is invalid"}${refused}`.trim();
}

export function parseSettingsConfig(raw: unknown): SettingsConfig {
  if (raw === null || raw === undefined) return {};
  if (!validate(raw)) {
    const first = validate.errors?.[0];
    throw new ConfigError(
      `CONCURRENT_TEST_CONFIG${first ? describe(first).replace(/^(?!\[)/, ": ") : " is invalid"}`,
      "fix CONCURRENT_TEST_CONFIG in the settings module",
    );
  }
  return raw;
}

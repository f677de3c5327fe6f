// settings.CONCURRENT_TEST_CONFIG, validated by a JSON Schema so a typo is an error, not a no-op.
import { Ajv, type ErrorObject } from "ajv";
import { ConfigError } from "../errors.ts";

export interface SettingsConfig {
  enabled?: boolean;
  workers?: number;
  timeout?: number;
  benchmark?: boolean;
  junit_xml?: string;
  start_method?: "fork" | "spawn";
  allow_debug_false?: boolean;
  production_patterns?: string[];
  test_patterns?: string[];
  allowed_hosts?: string[];
  race?: Record<string, unknown>;
}

const stringList = { type: "array", items: { type: "string" } } as const;

export const SETTINGS_SCHEMA = {
  type: "object",
  additionalProperties: false,
  properties: {
    enabled: { type: "boolean" },
    workers: { type: "integer", minimum: 1 },
    timeout: { type: "number", exclusiveMinimum: 0 },
    benchmark: { type: "boolean" },
    junit_xml: { type: "string", minLength: 1 },
    start_method: { enum: ["fork", "spawn"] },
    allow_debug_false: { type: "boolean" },
    production_patterns: stringList,
    test_patterns: stringList,
    allowed_hosts: stringList,
    race: { type: "object" },
  },
} as const;

const validate = new Ajv({ allErrors: false }).compile<SettingsConfig>(SETTINGS_SCHEMA);

function describe(error: ErrorObject): string {
  if (error.keyword === "additionalProperties") {
    const key = (error.params as { additionalProperty: string }).additionalProperty;
    const known = Object.keys(SETTINGS_SCHEMA.properties).join(", ");
    return `unknown key "${key}" (known keys: ${known})`;
  }
  const where = error.instancePath ? `["${error.instancePath.slice(1).replace(/\//g, '"]["')}"]` : "";
  return `${where} ${error.message ?? "is invalid"}`.trim();
}

export function parseSettingsConfig(raw: unknown): SettingsConfig {
  if (raw === null || raw === undefined) return {};
  if (!validate(raw)) {
    const first = validate.errors?.[0];
    throw new ConfigError(`CONCURRENT_TEST_CONFIG${first ? describe(first).replace(/^(?!\[)/, ": ") : " is invalid"}`);
  }
  return raw;
}

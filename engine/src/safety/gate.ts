// The safety gate: runs before any database is created, connected to or dropped.
// A refusal is a SecurityException (exit 2) and never falls back to a sequential run.
import type { RunConfig } from "../config/resolve.ts";
import { SecurityException } from "../errors.ts";
import type { ProjectSettings } from "../protocol/messages.ts";
import { looksLikeProduction, namePolicy, type NamePolicy } from "./names.ts";

export function checkOptIn(config: RunConfig): void {
  if (!config.enabled) {
    throw new SecurityException(
      "concurrent testing is disabled",
      'set DJANGO_ENABLE_CONCURRENT=1 (or CONCURRENT_TEST_CONFIG["enabled"] = True) to opt in',
    );
  }
  if (!config.noTelemetry) {
    throw new SecurityException("NO_TELEMETRY=1 is required", "set NO_TELEMETRY=1 in the environment of the test run");
  }
}

export function checkDebug(config: RunConfig, settings: ProjectSettings): void {
  if (!settings.debug && config.settings.allow_debug_false !== true) {
    throw new SecurityException(
      `settings.DEBUG is False in ${settings.settingsModule}, which looks like production settings`,
      'use development/test settings, or set CONCURRENT_TEST_CONFIG["allow_debug_false"] = True (common for CI settings)',
    );
  }
}

export function checkConfiguredNames(settings: ProjectSettings, policy: NamePolicy): void {
  for (const [alias, db] of Object.entries(settings.databases)) {
    for (const [what, name] of [
      ["NAME", db.name],
      ["TEST NAME", db.test.name],
    ] as const) {
      if (name && looksLikeProduction(String(name), db.vendor, policy)) {
        throw new SecurityException(
          `production database prohibited: DATABASES["${alias}"] ${what} "${name}" matches a production pattern`,
          "run tests against development settings whose database names do not look like production",
        );
      }
    }
  }
}

/** Every check that needs only configuration and settings (no connection). */
export function runSafetyGate(config: RunConfig, settings: ProjectSettings): NamePolicy {
  checkOptIn(config);
  checkDebug(config, settings);
  const policy = namePolicy(config.settings.production_patterns, config.settings.test_patterns);
  checkConfiguredNames(settings, policy);
  return policy;
}

// The safety gate: runs right after configuration is resolved, before discovery and before any
// database is created, connected to or dropped. A refusal is a SecurityException (exit 2, one
// line and a hint) and never falls back to a sequential run.
import type { RunConfig } from "../config/resolve.ts";
import { SecurityException } from "../core/errors.ts";
import type { ProjectSettings } from "../protocol/messages.ts";
import { checkHosts } from "./hosts.ts";
import { assertSafeName, controlCharacterReason, SAFE_NAME_HINT, shown } from "./identifiers.ts";
import {
  looksLikeTest,
  namePolicy,
  PRODUCTION_HINT,
  productionPatternOf,
  TEST_NAME_HINT,
  type NamePolicy,
} from "./names.ts";
import { plannedNames } from "./planned-names.ts";

const OPT_IN_HINT =
  'set DJANGO_ENABLE_CONCURRENT=1 (1, true or yes), or CONCURRENT_TEST_CONFIG["enabled"] = True with the variable unset';
const TELEMETRY_HINT = "set NO_TELEMETRY=1 in the environment of the test run";

/** Both opt-ins at once: a user who lacks both learns it from one run, not two. */
export function checkOptIn(config: RunConfig, env: NodeJS.ProcessEnv = {}): void {
  const missing: [string, string][] = [];
  if (!config.enabled) {
    const value = env.DJANGO_ENABLE_CONCURRENT;
    missing.push([
      value === undefined
        ? "concurrent testing is disabled: DJANGO_ENABLE_CONCURRENT is not set"
        : `concurrent testing is disabled: DJANGO_ENABLE_CONCURRENT is ${shown(value)} (it overrides CONCURRENT_TEST_CONFIG["enabled"])`,
      OPT_IN_HINT,
    ]);
  }
  if (!config.noTelemetry) {
    const value = env.NO_TELEMETRY;
    missing.push([
      value === undefined
        ? "NO_TELEMETRY=1 is required: NO_TELEMETRY is not set"
        : `NO_TELEMETRY=1 is required: NO_TELEMETRY is ${shown(value)}`,
      TELEMETRY_HINT,
    ]);
  }
  if (missing.length === 0) return;
  throw new SecurityException(missing.map(([m]) => m).join("; "), missing.map(([, h]) => h).join("; and "));
}

export function checkDebug(config: RunConfig, settings: ProjectSettings): void {
  if (!settings.debug && config.settings.allow_debug_false !== true) {
    throw new SecurityException(
      settings.debugSet === false
        ? `settings.DEBUG is not set in ${settings.settingsModule}, so it is Django's default False, which looks like production settings`
        : `settings.DEBUG is False in ${settings.settingsModule}, which looks like production settings`,
      'use development/test settings, or set CONCURRENT_TEST_CONFIG["allow_debug_false"] = True (common for CI settings)',
    );
  }
}

/**
 * Every configured NAME, test database name and clone name: no control characters, no
 * production pattern; names the run creates must also be safe identifiers (within the server's
 * length limit, clone suffix included) and look like test databases.
 */
export function checkNames(settings: ProjectSettings, policy: NamePolicy, workers: number): void {
  for (const planned of plannedNames(settings, workers)) {
    const { name, vendor, where } = planned;
    const display = planned.display ?? name;
    const control = controlCharacterReason(name);
    if (control) {
      throw new SecurityException(`unsafe database name ${shown(name)} (${where}): ${control}`, SAFE_NAME_HINT);
    }
    // Every vendor, cloneable or not: a run that falls back still has Django create the name.
    const created = planned.created;
    if (created) assertSafeName(name, vendor, where, display);
    const production = productionPatternOf(name, vendor, policy);
    if (production) {
      throw new SecurityException(
        `production database prohibited: ${where} ${shown(display)} matches the production pattern /${production.source}/`,
        PRODUCTION_HINT,
      );
    }
    if (created && !looksLikeTest(name, vendor, policy)) {
      throw new SecurityException(`${where} ${shown(display)} matches no test database pattern`, TEST_NAME_HINT);
    }
  }
}

/** Every check that needs only configuration and settings: nothing is connected to yet. */
export function runSafetyGate(config: RunConfig, settings: ProjectSettings, env: NodeJS.ProcessEnv = {}): NamePolicy {
  checkOptIn(config, env);
  checkDebug(config, settings);
  checkHosts(settings, config.settings.allowed_hosts ?? [], env);
  const policy = namePolicy(config.settings.production_patterns, config.settings.test_patterns);
  checkNames(settings, policy, config.workers);
  return policy;
}

// When a run cannot be concurrent it runs sequentially, decided here and only here, after the
// safety gate (a refusal never becomes a sequential run). Under manage.py test the runner's own
// process runs the suite as the only worker (sequential.ts), so every report is still written;
// pytest --concurrent hands the loop back to pytest instead.
import type { RunConfig } from "../config/resolve.ts";
import { CLONEABLE_VENDORS } from "../databases/index.ts";
import { ConfigError } from "../core/errors.ts";
import type { ProjectSettings } from "../protocol/messages.ts";

export function sequentialReason(config: RunConfig, settings: ProjectSettings, pytest = false): string | null {
  if (config.django.pdb) return "--pdb needs a single process";
  if (config.django.debugMode) return "--debug-mode runs in one process";
  // pytest --concurrent runs one worker on the pool: its own loop would write none of our reports.
  if (config.workers === 1 && !pytest) return `1 worker requested (${config.workersSource})`;
  if (pytest && process.platform === "win32")
    return "pytest --concurrent forks its workers, which this platform cannot";
  for (const [alias, db] of Object.entries(settings.databases)) {
    if (!CLONEABLE_VENDORS.includes(db.vendor)) {
      return `DATABASES["${alias}"] uses ${db.vendor}, which the engine cannot clone yet`;
    }
  }
  return null;
}

/**
 * pytest's own loop writes pytest's reports (--junitxml) but none of the engine's: asking for one
 * of those on a run that must go sequential is refused rather than silently dropped.
 */
export function checkPytestHandBack(config: RunConfig, reason: string): void {
  const asked = [config.html ? "--concurrent-html" : null, config.benchmark ? "--benchmark" : null].filter(Boolean);
  if (asked.length === 0) return;
  throw new ConfigError(
    `${asked.join(" and ")} cannot be written: pytest runs this session in its own loop (${reason})`,
    `drop ${asked.join(" and ")}, or remove what makes the run sequential`,
  );
}

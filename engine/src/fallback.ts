// When a run cannot be concurrent, Django's own sequential runner runs it instead, with one
// line saying why. A safety refusal is never a reason to fall back.
import type { RunConfig } from "./config/resolve.ts";
import { CLONEABLE_VENDORS } from "./db/index.ts";
import type { ProjectSettings } from "./protocol/messages.ts";

export function fallbackReason(config: RunConfig, settings: ProjectSettings): string | null {
  if (config.django.pdb) return "--pdb needs a single process";
  if (config.django.debugMode) return "--debug-mode runs in one process";
  if (config.workers === 1) return `1 worker requested (${config.workersSource})`;
  for (const [alias, db] of Object.entries(settings.databases)) {
    if (!CLONEABLE_VENDORS.includes(db.vendor)) {
      return `DATABASES["${alias}"] uses ${db.vendor}, which the engine cannot clone yet`;
    }
  }
  return null;
}

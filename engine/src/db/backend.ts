// One interface for every database statement the engine issues. Only modules in db/ write
// SQL; each validates names against the safety policy and quotes with the driver's escaping.
import type { DatabaseSettings } from "../protocol/messages.ts";
import type { NamePolicy } from "../safety/names.ts";

export interface DatabaseBackend {
  readonly vendor: string;
  /** Create `clone` as a copy of the migrated `template` (schema and rows). */
  cloneDatabase(template: string, clone: string): Promise<void>;
  /** Drop a database the engine created; a missing one is not an error. */
  dropDatabase(name: string): Promise<void>;
  close(): Promise<void>;
}

export interface BackendContext {
  settings: DatabaseSettings;
  policy: NamePolicy;
  /** Upper bound of statements run at once (one per clone being made). */
  concurrency: number;
}

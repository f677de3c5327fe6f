// The contract every report written after a run implements: each sees the finished results once
// the run (teardown included) is over, so its numbers cover the whole run.
import type { RunConfig } from "../config/resolve.ts";
import type { BridgeHello } from "../protocol/messages.ts";
import type { RunResults } from "../results/run-results.ts";

/** Clone operations made and failed; SQLite in-memory copies the workers load, when any. */
export interface CloneCounts {
  clones: number;
  errors: number;
  inMemory?: number;
}

export interface ReportContext {
  results: RunResults;
  config: RunConfig;
  hello: BridgeHello;
  /** Workers the run used (min of the configured count and the number of classes). */
  workers: number;
  cloneStats: CloneCounts;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export interface Reporter {
  /** Called once, after teardown; may write files or print. */
  finish(ctx: ReportContext): void | Promise<void>;
}

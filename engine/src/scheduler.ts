// The work queue: TestCase classes handed out one at a time to whichever worker is free,
// so a slow class never holds up the others. Order: the discovery order (which carries
// Django's grouping, --shuffle and --reverse).
import type { TestClassInfo } from "./protocol/messages.ts";

export class WorkQueue {
  private readonly pending: TestClassInfo[];
  private stopped = false;

  constructor(classes: TestClassInfo[]) {
    this.pending = [...classes];
  }

  next(): TestClassInfo | undefined {
    if (this.stopped) return undefined;
    return this.pending.shift();
  }

  /** Stop handing out work (failfast, interrupt); what is left is reported as not run. */
  stop(): void {
    this.stopped = true;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  get remaining(): readonly TestClassInfo[] {
    return this.pending;
  }
}

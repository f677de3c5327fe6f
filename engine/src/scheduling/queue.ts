// The work queue and the order work is handed out in. Workers pull one item at a time, so a
// slow class never holds up the others; what is left to choose is the order, and that decides
// the tail (the end of a run when one worker is still busy and the others have nothing to do).
//
// Longest expected first (from stored timings, else an estimate from the test count) keeps the
// tail short. Two things constrain it:
// - Django runs every TestCase before any TransactionTestCase, because the latter flushes the
//   database (data-migration rows are gone afterwards). Since the queue is shared, handing out
//   every TestCase before any class that writes outside a transaction guarantees the same on
//   every worker's clone. Classes without databases may go anywhere.
// - A class is the unit (setUpClass and setUpTestData run once per class). Only classes the
//   bridge marks `splittable` (SimpleTestCase or plain unittest classes without databases and
//   without class-level fixtures of their own) are cut into parts by test, and only when one
//   class would otherwise be the tail.
// --reverse and --shuffle ask for an order: then the discovery order is kept, whole classes.
import type { TestClassInfo } from "../protocol/messages.ts";
import { estimateSeconds, type Timings } from "./timings.ts";

export interface WorkItem {
  /** The class as discovered: the worker runs the class at `info.index`. */
  info: TestClassInfo;
  /**
   * What results record for this item: `info` itself, or (a part of a split class, a retry) a
   * copy holding only the tests this item runs, under an index of its own past the discovered
   * ones, so each part has its own class record.
   */
  record: TestClassInfo;
  /** 1-based part number and count, when the class is split. */
  part?: { number: number; of: number };
  /** Expected wall seconds on one worker. */
  expected: number;
  /** 1 for the first run, 2 for the retry after a crash. */
  attempt: number;
}

export type Order = "expected" | "discovery";

export interface PlanOptions {
  workers: number;
  /** "discovery": keep the order discovery gave (--reverse, --shuffle, or asked for). */
  order: Order;
}

/** Hands out indexes for part and retry records, past every discovered class. */
export class RecordIndexes {
  private next: number;
  constructor(classes: readonly TestClassInfo[]) {
    this.next = classes.reduce((max, c) => Math.max(max, c.index + 1), 0);
  }
  allocate(): number {
    return this.next++;
  }
}

/** 0: runs inside a transaction (TestCase); 1: may leave rows behind; "free": no database. */
function phaseOf(info: TestClassInfo): 0 | 1 | "free" {
  if (info.kind === "TestCase") return 0;
  if (info.databases.length === 0) return "free";
  return 1;
}

/**
 * Whether a class may run before the test databases exist: the bridge found that Django's own
 * query guard covers all its code (see TestClassInfo.beforeDatabases). A plain unittest class
 * has no such guard: it could use the database, so it waits like the rest.
 */
export function runsWithoutDatabases(info: TestClassInfo): boolean {
  return info.beforeDatabases === true && info.kind === "SimpleTestCase" && info.databases.length === 0;
}

function whole(info: TestClassInfo, timings: Timings): WorkItem {
  return {
    info,
    record: info,
    expected: estimateSeconds(timings, info),
    attempt: 1,
  };
}

/** Cuts a class into `count` runs of consecutive tests (the class's own order is kept). */
export function splitClass(info: TestClassInfo, count: number, timings: Timings, indexes: RecordIndexes): WorkItem[] {
  const n = info.tests.length;
  const parts: WorkItem[] = [];
  for (let p = 0; p < count; p++) {
    const tests = info.tests.slice(Math.floor((p * n) / count), Math.floor(((p + 1) * n) / count));
    const record = { ...info, index: indexes.allocate(), tests };
    parts.push({
      info,
      record,
      part: { number: p + 1, of: count },
      expected: estimateSeconds(timings, record),
      attempt: 1,
    });
  }
  return parts;
}

/** How many parts a class should be cut into so that it cannot be the tail (1: keep it whole). */
export function partsFor(item: WorkItem, total: number, workers: number): number {
  const { info } = item;
  // Only what the bridge marked, and never a class with databases (its tests may share rows).
  const pure = (info.kind === "SimpleTestCase" || info.kind === "unittest") && info.databases.length === 0;
  if (workers < 2 || !info.splittable || !pure || info.tests.length < 2) return 1;
  // A part no bigger than half a worker's fair share fits in beside the other work.
  const limit = total / workers / 2;
  if (item.expected <= limit || limit <= 0) return 1;
  return Math.min(item.info.tests.length, Math.ceil(item.expected / limit));
}

/**
 * Whether the run keeps Django's order: on MySQL/MariaDB, AUTO_INCREMENT counters survive a
 * rollback and are not put back between classes (an ALTER TABLE per table costs more than the
 * order saves; PostgreSQL's sequences are put back by the workers instead). In Django's order a
 * class sees only what classes before it in that order left, as on a Django --parallel worker.
 */
export function keepsDjangosOrder(
  aliases: readonly string[],
  vendorOf: (alias: string) => string | undefined,
): boolean {
  return aliases.some((alias) => vendorOf(alias) === "mysql");
}

const longestFirst = (a: WorkItem, b: WorkItem): number =>
  b.expected - a.expected || a.info.index - b.info.index || (a.part?.number ?? 0) - (b.part?.number ?? 0);

/** The items of a run in hand-out order. */
export function planWork(
  classes: readonly TestClassInfo[],
  timings: Timings,
  opts: PlanOptions,
  indexes: RecordIndexes = new RecordIndexes(classes),
): WorkItem[] {
  const items = classes.map((info) => whole(info, timings));
  if (opts.order === "discovery") return items;
  const total = items.reduce((sum, item) => sum + item.expected, 0);
  const expanded = items.flatMap((item) => {
    const count = partsFor(item, total, opts.workers);
    return count > 1 ? splitClass(item.info, count, timings, indexes) : [item];
  });
  const first: WorkItem[] = [];
  const second: WorkItem[] = [];
  const free: WorkItem[] = [];
  for (const item of expanded) {
    const phase = phaseOf(item.info);
    (phase === 0 ? first : phase === 1 ? second : free).push(item);
  }
  // Classes without databases fill in wherever they fit: the big ones start with the first
  // phase, the small ones end the run beside the second.
  const biggestSecond = second.reduce((max, item) => Math.max(max, item.expected), 0);
  for (const item of free) (second.length > 0 && item.expected <= biggestSecond ? second : first).push(item);
  return [...first.sort(longestFirst), ...second.sort(longestFirst)];
}

export class WorkQueue {
  private readonly pending: WorkItem[];
  private stopped = false;

  constructor(
    items: readonly WorkItem[],
    private readonly indexes: RecordIndexes,
  ) {
    this.pending = [...items];
  }

  /** Whole classes in the given order (tests and callers that need no planning). */
  static ofClasses(classes: readonly TestClassInfo[], timings: Timings): WorkQueue {
    const indexes = new RecordIndexes(classes);
    return new WorkQueue(planWork(classes, timings, { workers: 1, order: "discovery" }, indexes), indexes);
  }

  /** The next item; for a worker without clones yet, the next one that needs no database. */
  next(withDatabases = true): WorkItem | undefined {
    if (this.stopped) return undefined;
    if (withDatabases) return this.pending.shift();
    const at = this.pending.findIndex((item) => runsWithoutDatabases(item.info));
    return at < 0 ? undefined : this.pending.splice(at, 1)[0];
  }

  /**
   * Puts the given tests of an item back at the head of the queue as a retry on a fresh worker.
   * Returns the new item (its record has an index of its own).
   */
  retry(item: WorkItem, tests: TestClassInfo["tests"], timings: Timings): WorkItem {
    const record = { ...item.info, index: this.indexes.allocate(), tests };
    const retry: WorkItem = {
      info: item.info,
      record,
      part: item.part,
      expected: estimateSeconds(timings, record),
      attempt: item.attempt + 1,
    };
    this.pending.unshift(retry);
    return retry;
  }

  /** Stop handing out work (failfast, interrupt); what is left is reported as not run. */
  stop(): void {
    this.stopped = true;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Items not handed out yet (also after stop()). */
  get remaining(): readonly WorkItem[] {
    return this.pending;
  }

  /** Takes every item not handed out (to report them as not run). */
  drain(): WorkItem[] {
    return this.pending.splice(0);
  }

  /** Expected seconds of the work not handed out yet. */
  get expectedRemaining(): number {
    return this.pending.reduce((sum, item) => sum + item.expected, 0);
  }
}

// Clones: one copy of every template per worker slot, made concurrently while the run holds the
// templates' locks. Clones are named <template>_<n>; a run claims the numbers no live run owns,
// records itself as each clone's owner, and at the end drops its clones (or, with --keepdb,
// keeps them for the next run, which reuses them because the hash is in their name).
// A kept clone that tests wrote to is put back in place where the backend can (MySQL/MariaDB:
// mysql-repair.ts). A clone left by an earlier run that cannot be reused (such a clone elsewhere,
// an orphan) is not dropped on the way to the tests: this run takes a free number and drops the
// stale one in the background (PostgreSQL's DROP DATABASE forces a checkpoint: a second or more).
import { parseEngineName, serverCloneName, sqliteCloneName, MAX_SLOT } from "./naming.ts";
import { currentOwner, ownerLiveness } from "./owner.ts";
import type { DatabaseRecord } from "./records.ts";
import type { DatabaseBackend, ExistingDatabase } from "./backend.ts";
import { DatabaseTemplateException } from "../core/errors.ts";
import type { CloneSpec, DatabaseSettings } from "../protocol/messages.ts";
import type { Template, TemplateSet } from "./templates.ts";

export interface SlotDatabases {
  /** The worker slot (1..workers); a replaced worker takes over its slot and clones. */
  slot: number;
  /** What each alias of the worker in this slot connects to. */
  clones: Record<string, CloneSpec>;
}

/** What a clone's name needs of its template (the safety gate plans names with it too). */
export interface CloneSource {
  alias?: string;
  vendor: string;
  name: string;
  inMemory?: boolean;
  settings?: DatabaseSettings;
}

export function cloneName(template: CloneSource, slot: number): string {
  return template.vendor === "sqlite" ? sqliteCloneName(template.name, slot) : serverCloneName(template.name, slot);
}

interface Made {
  template: Template;
  name: string;
  /** The worker slot using it. */
  slot: number;
  /** Recorded complete: a copy (or a kept clone) that tests may use. */
  ready: boolean;
}

export interface CloneStats {
  /** Copies of a template made (a repair that failed counts as a copy), and failed operations. */
  clones: number;
  errors: number;
  /** SQLite in-memory test databases, one per slot, that the workers load from the template themselves. */
  inMemory: number;
  /** Kept clones used as they were, and kept clones tests wrote to, put back in place. */
  reused: number;
  repaired: number;
}

/** A clone number this run takes, and how its database becomes usable. */
interface Claim {
  n: number;
  /** as is: a clean kept clone; repaired: a kept one tests wrote to, put back in place; copied: new. */
  reuse: "as is" | "repaired" | "copied";
}

function cloneRecord(template: Template, fields: Pick<DatabaseRecord, "complete" | "kept" | "owner">): DatabaseRecord {
  return { role: "clone", hash: template.hash, ...fields };
}

export class CloneSet {
  private readonly made: Made[] = [];
  /** How this run's clones were made, for the benchmark summary and the event log. */
  readonly stats: CloneStats = { clones: 0, errors: 0, inMemory: 0, reused: 0, repaired: 0 };
  /** Stale clones of earlier runs being dropped beside the tests; awaited at the end. */
  private readonly staleDrops: Promise<unknown>[] = [];

  constructor(
    private readonly set: TemplateSet,
    private readonly keepdb: boolean,
  ) {}

  /**
   * Claims clone numbers for `slots.length` workers per template: numbers with no database, or
   * whose database no live run owns. With --keepdb a kept, complete clone is reused as it is.
   */
  private async claim(template: Template, count: number): Promise<Claim[]> {
    const existing = new Map<number, ExistingDatabase>();
    const prefix = template.vendor === "sqlite" ? template.name.replace(/\.sqlite3$/, "_") : `${template.name}_`;
    for (const db of await template.backend.listDatabases(prefix)) {
      const parsed = parseEngineName(template.vendor, db.name);
      if (parsed?.template === template.name && parsed.slot !== null) existing.set(parsed.slot, db);
    }
    const claimed: Claim[] = [];
    for (let n = 1; claimed.length < count; n++) {
      if (n > MAX_SLOT)
        throw new DatabaseTemplateException(`no free clone number for "${template.name}" (all ${MAX_SLOT} in use)`);
      const db = existing.get(n);
      const owner = db?.record?.owner;
      if (owner && ownerLiveness(owner) !== "gone") continue; // another live run's clone
      const r = db?.record;
      if (r?.kept && !this.keepdb) continue; // a run without --keepdb leaves the cache as it is
      const kept = this.keepdb && !!r && r.kept && r.complete && r.hash === template.hash;
      // A kept clone other runs wrote to (TransactionTestCase flushes) is repaired where the
      // backend can put its rows back in place, else dropped.
      const reuse = kept ? (r.clean === true ? "as is" : template.backend.repairClone ? "repaired" : null) : null;
      if (db && !reuse) {
        this.dropStale(template, db.name);
        continue;
      }
      claimed.push({ n, reuse: reuse ?? "copied" });
    }
    return claimed;
  }

  /** Claims a stale clone (so no other run takes it meanwhile), then drops it, not waited for. */
  private dropStale(template: Template, name: string): void {
    const owner = currentOwner();
    const drop = template.backend
      .writeRecord(name, cloneRecord(template, { complete: false, kept: false, owner }))
      .then(() => template.backend.dropDatabase(name))
      .catch(() => undefined); // left for the orphan sweep of a later run
    this.staleDrops.push(drop);
  }

  /** Make every slot's clones at once; on any failure drop what was made and throw. */
  async create(slots: number[]): Promise<SlotDatabases[]> {
    try {
      const result: SlotDatabases[] = slots.map((slot) => ({
        slot,
        clones: {},
      }));
      const specs = new Map<string, CloneSpec>();
      const jobs: Promise<void>[] = [];
      const owner = currentOwner();
      for (const template of this.set.templates) {
        if (template.inMemory) {
          // One shared-cache memory database per template and slot; mirrors connect to it too.
          for (const slot of slots) {
            const memory = `file:memorydb_${template.alias}_${slot}?mode=memory&cache=shared`;
            specs.set(`${template.alias}:${slot}`, {
              name: memory,
              loadIntoMemoryFrom: template.name,
            });
          }
          this.stats.inMemory += slots.length;
          continue;
        }
        const claimed = await this.claim(template, slots.length);
        slots.forEach((slot, i) => {
          const { n, reuse } = claimed[i]!;
          const name = cloneName(template, n);
          specs.set(`${template.alias}:${slot}`, { name });
          const entry: Made = { template, name, slot, ready: false };
          this.made.push(entry);
          const inUse = cloneRecord(template, {
            complete: true,
            kept: false,
            owner,
          });
          jobs.push(this.ready(template, name, reuse, inUse).then(() => void (entry.ready = true)));
        });
      }
      const settled = await Promise.allSettled(jobs);
      const failures = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected");
      if (failures.length > 0) {
        this.stats.errors += failures.length;
        await this.dropAll();
        const first = failures[0]!.reason as Error;
        throw first instanceof DatabaseTemplateException ? first : new DatabaseTemplateException(first.message);
      }
      for (const entry of result) {
        for (const [alias, template] of Object.entries(this.set.byAlias)) {
          const spec = specs.get(`${template.alias}:${entry.slot}`);
          if (spec) entry.clones[alias] = spec;
        }
      }
      return result;
    } finally {
      await this.set.unlock();
    }
  }

  /** Makes clone `name` usable as `how` says, counted in `stats`. */
  private async ready(template: Template, name: string, how: Claim["reuse"], record: DatabaseRecord): Promise<void> {
    const { backend } = template;
    if (how === "as is") {
      this.stats.reused++;
      return backend.writeRecord(name, record);
    }
    if (how === "repaired") {
      // Any failure to repair leaves the copy, which is always right.
      if (await backend.repairClone!(template.name, name, record).catch(() => false)) {
        this.stats.repaired++;
        return;
      }
      await backend.dropDatabase(name); // not the template's schema any more: copied afresh
    }
    this.stats.clones++;
    await backend.cloneDatabase(template.name, name, record);
  }

  /**
   * A replaced worker takes over its slot: its clones are made again from the templates first,
   * so the new worker never sees what the lost one left half-written.
   */
  async recreate(slot: number): Promise<void> {
    const owner = currentOwner();
    for (const entry of this.made.filter((m) => m.slot === slot)) {
      const { template, name } = entry;
      const lock = await template.backend.lock(template.name, () => undefined, 60_000);
      try {
        entry.ready = false;
        await template.backend.dropDatabase(name);
        this.stats.clones++;
        await template.backend.cloneDatabase(
          template.name,
          name,
          cloneRecord(template, { complete: true, kept: false, owner }),
        );
        entry.ready = true;
      } catch (error) {
        this.stats.errors++;
        throw error;
      } finally {
        await lock.release();
      }
    }
  }

  /**
   * End of run: --keepdb keeps complete clones for the next run (`dirty(slot)`: something that
   * commits ran on that slot's clones); otherwise all are dropped.
   */
  async finish(dirty: (slot: number) => boolean = () => true): Promise<void> {
    await Promise.allSettled(this.staleDrops.splice(0));
    if (!this.keepdb) return this.dropAll();
    const made = this.made.splice(0);
    await Promise.allSettled(
      made.map(({ template, name, slot, ready }) =>
        ready
          ? template.backend.writeRecord(name, {
              ...cloneRecord(template, {
                complete: true,
                kept: true,
                owner: null,
              }),
              clean: !dirty(slot),
            })
          : template.backend.dropDatabase(name),
      ),
    );
  }

  /** Drops every clone this run made or claimed, finished or half-made (all carry its names). */
  async dropAll(): Promise<void> {
    await Promise.allSettled(this.staleDrops.splice(0));
    const made = this.made.splice(0);
    await Promise.allSettled(made.map(({ template, name }) => template.backend.dropDatabase(name)));
  }
}

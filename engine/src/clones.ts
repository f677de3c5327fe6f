// Clones: one copy of every template per worker slot, made concurrently, all dropped at the end.
import { openBackend } from "./db/index.ts";
import type { DatabaseBackend } from "./db/backend.ts";
import { sqliteCloneName } from "./db/sqlite.ts";
import { DatabaseTemplateException } from "./errors.ts";
import type { CloneSpec } from "./protocol/messages.ts";
import type { NamePolicy } from "./safety/names.ts";
import type { Template, TemplateSet } from "./templates.ts";

export interface SlotDatabases {
  slot: number;
  /** What each alias of the worker in this slot connects to. */
  clones: Record<string, CloneSpec>;
}

export function cloneName(template: Template, slot: number): string {
  return template.vendor === "sqlite" ? sqliteCloneName(template.name, slot) : `${template.name}_${slot}`;
}

export class CloneSet {
  private readonly backends = new Map<string, DatabaseBackend>();
  private readonly made: { backend: DatabaseBackend; name: string }[] = [];
  /** Count of clone operations and of failed ones, for the benchmark summary. */
  readonly stats = { clones: 0, errors: 0 };

  constructor(
    private readonly set: TemplateSet,
    private readonly policy: NamePolicy,
  ) {}

  private backend(template: Template, concurrency: number): DatabaseBackend {
    let backend = this.backends.get(template.alias);
    if (!backend) {
      backend = openBackend({ settings: template.settings, policy: this.policy, concurrency });
      this.backends.set(template.alias, backend);
    }
    return backend;
  }

  /** Make every slot's clones at once; on any failure drop what was made and throw. */
  async create(slots: number[]): Promise<SlotDatabases[]> {
    const jobs: Promise<void>[] = [];
    const result: SlotDatabases[] = slots.map((slot) => ({ slot, clones: {} }));
    const specs = new Map<string, CloneSpec>();
    for (const template of this.set.templates) {
      for (const slot of slots) {
        const key = `${template.alias}:${slot}`;
        if (template.inMemory) {
          // One shared-cache memory database per template and slot; mirrors connect to it too.
          const memory = `file:memorydb_${template.alias}_${slot}?mode=memory&cache=shared`;
          specs.set(key, { name: memory, loadIntoMemoryFrom: template.name });
          continue;
        }
        const name = cloneName(template, slot);
        specs.set(key, { name });
        const backend = this.backend(template, slots.length);
        this.stats.clones++;
        jobs.push(
          backend.cloneDatabase(template.name, name).then(() => {
            this.made.push({ backend, name });
          }),
        );
      }
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
  }

  async dropAll(): Promise<void> {
    const made = this.made.splice(0);
    await Promise.allSettled(made.map(({ backend, name }) => backend.dropDatabase(name)));
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.backends.values()].map((b) => b.close()));
    this.backends.clear();
  }
}

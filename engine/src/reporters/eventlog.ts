// The run's event log: every phase and worker event as JSON lines, for tooling and tests
// (DJANGO_CONCURRENT_TEST_EVENT_LOG=path; tests/helpers.py reads it). Machine-readable; no
// formatting decisions here. Each line is one of the events below, with `t` (ms) in front.
import { createWriteStream, type WriteStream } from "node:fs";
import type { CloneStats, SlotDatabases } from "../databases/clones.ts";
import type { SweepAction } from "../databases/sweep.ts";
import type { TemplateReport } from "../databases/templates.ts";
import type { Outcome, OutcomeEvent, TestStop } from "../protocol/messages.ts";
import type { Phase, RunResults } from "../results/run-results.ts";
import type { WorkItem } from "../scheduling/queue.ts";
import type { WorkerEvent } from "../workers/incidents.ts";

/** What the results report as the tests run. */
export type ResultEvent =
  | (OutcomeEvent & { slot: number })
  | (TestStop & { slot: number })
  | { type: "phase"; phase: Phase; edge: "start" | "end"; at: number }
  | { type: "workerReady"; slot: number; pid: number }
  | { type: "workerAttached"; slot: number }
  | { type: "classStart"; classIndex: number; label: string; slot: number }
  | { type: "classDone"; classIndex: number; label: string; slot: number; interrupted: string | null };

/** The stages of the run, as each ends. */
export type StageEvent =
  | { type: "discovered"; classes: number; databases: string[] }
  | {
      type: "plan";
      order: "discovery" | "expected";
      items: { label: string; part: WorkItem["part"] | null; expected: number }[];
    }
  | { type: "templates"; templates: TemplateReport[] }
  | { type: "dropped"; when: "setup" | "teardown"; databases: SweepAction[] }
  | { type: "clones"; slots: SlotDatabases[]; made: CloneStats }
  /** Workers started before the databases were replaced: the setup connected these receivers. */
  | { type: "freshWorkers"; receivers: string[] }
  | { type: "summary"; testsRun: number; counts: Record<Outcome, number>; workers: number };

export type LogEvent = ResultEvent | StageEvent | WorkerEvent;

export class EventLog {
  private readonly stream: WriteStream;
  constructor(path: string, results: RunResults) {
    this.stream = createWriteStream(path, { flags: "w" });
    results.on("outcome", (event, slot) => this.write({ ...event, slot }));
    results.on("testStop", (event, slot) => this.write({ ...event, slot }));
    results.on("phase", (phase, edge, at) => this.write({ type: "phase", phase, edge, at: Math.round(at) }));
    results.on("workerReady", (slot, pid) => this.write({ type: "workerReady", slot, pid }));
    results.on("workerAttached", (slot) => this.write({ type: "workerAttached", slot }));
    results.on("classStart", (record) =>
      this.write({ type: "classStart", classIndex: record.info.index, label: record.info.label, slot: record.slot }),
    );
    results.on("classDone", (record) =>
      this.write({
        type: "classDone",
        classIndex: record.info.index,
        label: record.info.label,
        slot: record.slot,
        interrupted: record.interrupted ?? null,
      }),
    );
  }

  write(event: LogEvent): void {
    this.stream.write(JSON.stringify({ t: Math.round(performance.now()), ...event }) + "\n");
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(resolve));
  }
}

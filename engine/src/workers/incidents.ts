// Workers the pool lost during a run (timeouts, hangs, crashes, start failures) and what became
// of the tests they were running: the record the console's "Worker problems" section, the event
// log and the reports read.

export type LossKind = "timeout" | "hung" | "crash" | "startFailure";

/** What became of a crashed class's unfinished tests when they were run again. */
export type RetryResult = "pending" | "passed" | "failed" | "crashed again" | "timed out" | "not run";

export interface Incident {
  kind: LossKind;
  slot: number;
  pid: number | null;
  /** One line saying what happened. */
  message: string;
  /** The class (label) the worker was running, if any. */
  label: string | null;
  /** The test that was running, if any. */
  test: string | null;
  /** Seconds the class had been running on that worker. */
  elapsed: number | null;
  /** Where the worker was (faulthandler's stacks), when it could tell. */
  stacks: string | null;
  /** Set when the unfinished tests were queued again on a fresh worker. */
  retry: RetryResult | null;
}

/** What the worker pool tells of lost workers and their retries (lines of the event log). */
export type WorkerEvent =
  | ({ type: "workerLost" } & Omit<Incident, "stacks">)
  | { type: "retryDone"; label: string; slot: number; result: RetryResult }
  | { type: "keyboardInterrupt"; test: string; slot: number };

const TITLE: Record<LossKind, string> = {
  timeout: "timed out",
  hung: "stopped responding",
  crash: "crashed",
  startFailure: "could not start",
};

/** The console section printed after the summary; "" when nothing happened. */
export function formatIncidents(incidents: readonly Incident[]): string {
  if (incidents.length === 0) return "";
  const lines = [`Worker problems (${incidents.length}):`];
  for (const incident of incidents) {
    let line = `  worker ${incident.slot}${incident.pid ? ` (pid ${incident.pid})` : ""} ${TITLE[incident.kind]}: ${incident.message}`;
    if (incident.retry) {
      line += incident.retry === "pending" ? "; a retry was queued" : `; retried on a fresh worker: ${incident.retry}`;
    }
    lines.push(line);
  }
  return lines.join("\n") + "\n";
}

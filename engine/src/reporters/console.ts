// Console output in the format of Django's text test runner (unittest's TextTestRunner):
// dots at verbosity 1, "description ... ok" lines at 2, then errors, failures and the summary.
import type { Outcome, OutcomeEvent } from "../protocol/messages.ts";
import type { RunResults } from "../results/run-results.ts";

const SEPARATOR1 = "=".repeat(70);
const SEPARATOR2 = "-".repeat(70);

const DOTS: Record<Outcome, string> = {
  success: ".",
  failure: "F",
  error: "E",
  skip: "s",
  expectedFailure: "x",
  unexpectedSuccess: "u",
};

function status(event: OutcomeEvent): string {
  switch (event.outcome) {
    case "success":
      return "ok";
    case "failure":
      return "FAIL";
    case "error":
      return "ERROR";
    case "skip":
      return `skipped ${pyRepr(event.reason ?? "")}`;
    case "expectedFailure":
      return "expected failure";
    case "unexpectedSuccess":
      return "unexpected success";
  }
}

/** Python's repr() of a str, as unittest prints skip reasons. */
export function pyRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  const escaped = text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t");
  return quote + (quote === "'" ? escaped.replace(/'/g, "\\'") : escaped) + quote;
}

export interface ConsoleOptions {
  verbosity: number;
  /** --durations N (0: all); null: off. */
  durations: number | null;
  write: (text: string) => void;
  pythonVersion: [number, number];
}

export class ConsoleReporter {
  private wroteDots = false;
  constructor(
    private readonly results: RunResults,
    private readonly opts: ConsoleOptions,
  ) {
    results.on("outcome", (event) => this.onOutcome(event));
  }

  private onOutcome(event: OutcomeEvent): void {
    const { verbosity, write } = this.opts;
    if (verbosity >= 2) {
      write(`${event.description} ... ${status(event)}\n`);
    } else if (verbosity === 1) {
      write(DOTS[event.outcome]);
      this.wroteDots = true;
    }
  }

  /** Everything unittest prints after the last test: problem sections and the summary. */
  /** `stopped`: the run was cut short (a signal, or the runner's process gone), so it cannot
   * say OK whatever the tests that ran did. */
  finish(seconds: number, stopped = false): void {
    const { verbosity, write } = this.opts;
    const r = this.results;
    if (verbosity >= 1) write("\n");
    const writeList = (flavour: "ERROR" | "FAIL"): void => {
      for (const { event } of r.problems.filter((p) => p.flavour === flavour)) {
        write(`${SEPARATOR1}\n${flavour}: ${event.description}\n${SEPARATOR2}\n${event.traceback ?? ""}\n`);
        if (event.sql !== undefined) write(`${SEPARATOR2}\n${event.sql}\n`);
      }
    };
    writeList("ERROR");
    writeList("FAIL");
    const unexpected = [...r.tests.values()].flatMap((t) =>
      t.outcomes.filter((o) => o.outcome === "unexpectedSuccess"),
    );
    if (unexpected.length > 0) {
      write(`${SEPARATOR1}\n`);
      for (const event of unexpected) write(`UNEXPECTED SUCCESS: ${event.description}\n`);
    }
    if (this.opts.durations !== null) this.printDurations(this.opts.durations);
    write(`${SEPARATOR2}\n`);
    const run = r.testsRun;
    write(`Ran ${run} test${run !== 1 ? "s" : ""} in ${seconds.toFixed(3)}s\n\n`);
    const infos: string[] = [];
    let head: string;
    if (stopped) {
      head = "FAILED";
      infos.push("interrupted");
      if (r.counts.failure) infos.push(`failures=${r.counts.failure}`);
      if (r.counts.error) infos.push(`errors=${r.counts.error}`);
    } else if (!r.wasSuccessful) {
      head = "FAILED";
      if (r.counts.failure) infos.push(`failures=${r.counts.failure}`);
      if (r.counts.error) infos.push(`errors=${r.counts.error}`);
    } else if (run === 0 && r.counts.skip === 0 && this.pythonAtLeast(3, 12)) {
      head = "NO TESTS RAN";
    } else {
      head = "OK";
    }
    if (r.counts.skip) infos.push(`skipped=${r.counts.skip}`);
    if (r.counts.expectedFailure) infos.push(`expected failures=${r.counts.expectedFailure}`);
    if (r.counts.unexpectedSuccess) infos.push(`unexpected successes=${r.counts.unexpectedSuccess}`);
    write(infos.length > 0 ? `${head} (${infos.join(", ")})\n` : `${head}\n`);
    void this.wroteDots;
  }

  private printDurations(limit: number): void {
    printDurations(this.results, limit, this.opts.verbosity, this.opts.write);
  }

  private pythonAtLeast(major: number, minor: number): boolean {
    const [a, b] = this.opts.pythonVersion;
    return a > major || (a === major && b >= minor);
  }
}

/** unittest's "Slowest test durations" (Python 3.12), from the workers' measurements. */
export function printDurations(
  results: RunResults,
  limit: number,
  verbosity: number,
  write: (text: string) => void,
): void {
  const timed = [...results.tests.values()]
    .filter((t) => t.duration > 0 || t.outcomes.length > 0)
    .sort((a, b) => b.duration - a.duration);
  const shown = limit > 0 ? timed.slice(0, limit) : timed;
  if (shown.length === 0) return;
  write("Slowest test durations\n");
  write(`${SEPARATOR2}\n`);
  let hidden = false;
  for (const test of shown) {
    if (verbosity < 2 && test.duration < 0.001) {
      hidden = true;
      continue;
    }
    const method = test.id.slice(test.id.lastIndexOf(".") + 1);
    write(`${`${test.duration.toFixed(3)}s`.padEnd(10)} ${method} (${test.id})\n`);
  }
  write(hidden ? "\nSlowest test durations hidden (use -v 2 to show)\n" : "\n");
}

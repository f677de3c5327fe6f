// --junitxml=PATH: the run as JUnit XML, valid against the junit-10 schema (Jenkins' xUnit) and
// shaped the way unittest-xml-reporting writes Django suites, so CI tools show it as they would
// a Django run: one <testsuite> per TestCase class, one <testcase> per test (and per failing
// subtest), tracebacks in full, --buffer output inside the test it came from.
import path from "node:path";
import { create } from "xmlbuilder2";
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces.js";
import { writeReportFile } from "./files.ts";
import type { Reporter, ReportContext } from "./reporter.ts";
import {
  buildRunData,
  busySeconds,
  type ClassData,
  type OutcomeData,
  type RunData,
  type TestData,
} from "./report-data.ts";

/**
 * Characters XML 1.0 cannot carry (control characters, lone surrogates, U+FFFE/U+FFFF) and the
 * ones it discourages (C1 controls, noncharacters), removed as unittest-xml-reporting does.
 */
const ILLEGAL_XML =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u0084\u0086-\u009F\uFDD0-\uFDDF\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|[\uD83F\uD87F\uD8BF\uD8FF\uD93F\uD97F\uD9BF\uD9FF\uDA3F\uDA7F\uDABF\uDAFF\uDB3F\uDB7F\uDBBF\uDBFF][\uDFFE\uDFFF]/g;

export function xmlSafe(text: string): string {
  return text.replace(ILLEGAL_XML, "");
}

export const UNEXPECTED_SUCCESS_MESSAGE = "Unexpected success: the test is marked as an expected failure but passed";

/** The exception type and message unittest's traceback ends with ("pkg.Error: message"). */
export function exceptionOf(traceback: string | undefined): {
  type: string;
  message: string;
} {
  if (!traceback) return { type: "", message: "" };
  // --buffer appends the captured output after the traceback; it is not part of the exception.
  const text = traceback.split(/\n(?:Stdout|Stderr):\n/)[0]!.replace(/\s+$/, "");
  const lines = text.split("\n");
  let start = lines.length - 1;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (line.startsWith(" ") || line.startsWith("Traceback (most recent call last)")) break;
    start = i;
  }
  // The exception starts at the last unindented line that looks like "Name: ..." or "Name".
  for (let i = start; i < lines.length; i++) {
    const match = /^([A-Za-z_][\w.]*)(?::\s?(.*))?$/.exec(lines[i]!);
    if (match) {
      const rest = [match[2] ?? "", ...lines.slice(i + 1)].join("\n").trim();
      return { type: match[1]!, message: rest };
    }
  }
  return { type: "", message: lines[lines.length - 1] ?? "" };
}

const seconds3 = (s: number): string => Math.max(0, s).toFixed(3);

function isoTimestamp(run: RunData, offsetSeconds: number): string {
  return new Date(Date.parse(run.startedAt) + offsetSeconds * 1000).toISOString().replace(/\.\d+Z$/, "+00:00");
}

/** One <testcase>: the test itself, or one of its failing subtests. */
interface CaseEntry {
  name: string;
  time: number;
  outcomes: OutcomeData[];
  stdout?: string;
  stderr?: string;
}

/** A test's <testcase> entries: its own outcomes in one, each failing subtest in its own. */
export function caseEntries(test: TestData): CaseEntry[] {
  const own = test.outcomes.filter((o) => !o.subtest);
  const bySubtest = new Map<string, OutcomeData[]>();
  for (const o of test.outcomes) {
    if (!o.subtest) continue;
    bySubtest.set(o.test, [...(bySubtest.get(o.test) ?? []), o]);
  }
  const entries: CaseEntry[] = [];
  if (own.length > 0 || bySubtest.size === 0) entries.push({ name: test.name, time: test.duration, outcomes: own });
  for (const [id, outcomes] of bySubtest) {
    // "app.tests.C.test_x (i=3)" → "test_x (i=3)", as unittest-xml-reporting names subtests.
    const params = id.startsWith(test.id) ? id.slice(test.id.length) : ` ${id}`;
    entries.push({
      name: `${test.name}${params}`,
      time: test.duration,
      outcomes,
    });
  }
  if (test.stdout) entries[0]!.stdout = test.stdout;
  if (test.stderr) entries[0]!.stderr = test.stderr;
  return entries;
}

type Verdict = "failure" | "error" | "skipped" | "passed";

function verdictOf(outcomes: OutcomeData[]): Verdict {
  if (outcomes.some((o) => o.outcome === "error" || o.outcome === "unexpectedSuccess")) return "error";
  if (outcomes.some((o) => o.outcome === "failure")) return "failure";
  if (outcomes.length > 0 && outcomes.every((o) => o.outcome === "skip" || o.outcome === "expectedFailure"))
    return "skipped";
  return "passed";
}

function addOutcome(testcase: XMLBuilder, o: OutcomeData): void {
  switch (o.outcome) {
    case "success":
      return;
    case "failure":
    case "error": {
      const { type, message } = exceptionOf(o.traceback);
      testcase.ele(o.outcome, { type: xmlSafe(type), message: xmlSafe(message) }).txt(xmlSafe(o.traceback ?? ""));
      return;
    }
    case "skip":
      testcase.ele("skipped", {
        type: "skip",
        message: xmlSafe(o.reason ?? ""),
      });
      return;
    case "expectedFailure": {
      // unittest-xml-reporting: a skip of type XFAIL carrying the expected exception.
      const { message } = exceptionOf(o.traceback);
      testcase
        .ele("skipped", {
          type: "XFAIL",
          message: xmlSafe(`expected failure: ${message}`),
        })
        .txt(xmlSafe(o.traceback ?? ""));
      return;
    }
    case "unexpectedSuccess":
      // unittest-xml-reporting: an error of type UnexpectedSuccess (unittest counts it as failed).
      testcase.ele("error", {
        type: "UnexpectedSuccess",
        message: UNEXPECTED_SUCCESS_MESSAGE,
      });
      return;
  }
}

interface SuiteCounts {
  tests: number;
  failures: number;
  errors: number;
}

/**
 * One <testsuite> for a class, whatever ran it: the whole class, or the parts of a class split
 * across workers, or a class retried after its worker crashed.
 */
function addSuite(root: XMLBuilder, run: RunData, parts: ClassData[], id: number): SuiteCounts {
  const cls = parts[0]!;
  const tests = parts.flatMap((p) => p.tests).sort((a, b) => a.start - b.start);
  const entries = tests.flatMap(caseEntries);
  const verdicts = entries.map((e) => verdictOf(e.outcomes));
  const count = (v: Verdict): number => verdicts.filter((x) => x === v).length;
  const dot = cls.label.lastIndexOf(".");
  const suite = root.ele("testsuite", {
    name: xmlSafe(cls.label),
    tests: String(entries.length),
    failures: String(count("failure")),
    errors: String(count("error")),
    skipped: String(count("skipped")),
    time: seconds3(parts.reduce((sum, p) => sum + busySeconds(p), 0)),
    timestamp: isoTimestamp(run, Math.min(...parts.map((p) => p.start))),
    hostname: xmlSafe(run.hostname),
    id: String(id),
    package: xmlSafe(dot > 0 ? cls.label.slice(0, dot) : cls.label),
    ...(cls.file ? { file: xmlSafe(cls.file) } : {}),
  });
  const properties = suite.ele("properties");
  const property = (name: string, value: string): void =>
    void properties.ele("property", { name, value: xmlSafe(value) });
  property("worker", [...new Set(parts.map((p) => p.slot))].join(","));
  if (parts.length > 1) property("runs", String(parts.length));
  property("kind", cls.kind);
  if (cls.line !== null) property("line", String(cls.line));
  if (run.shard) {
    property("shard", `${run.shard.index}/${run.shard.total}`);
    property("shard-plan", run.shard.plan);
  }
  const interrupted = parts.filter((p) => p.interrupted).map((p) => p.interrupted);
  if (interrupted.length > 0) property("interrupted", interrupted.join("; "));
  for (const entry of entries) {
    const testcase = suite.ele("testcase", {
      classname: xmlSafe(cls.label),
      name: xmlSafe(entry.name),
      time: seconds3(entry.time),
    });
    for (const o of entry.outcomes) addOutcome(testcase, o);
    if (entry.stdout) testcase.ele("system-out").txt(xmlSafe(entry.stdout));
    if (entry.stderr) testcase.ele("system-err").txt(xmlSafe(entry.stderr));
  }
  return {
    tests: entries.length,
    failures: count("failure"),
    errors: count("error"),
  };
}

/** Attribute totals of a <testsuites> root, summed over its suites. */
export function suiteTotals(suites: SuiteCounts[]): Record<string, string> {
  const sum = (key: "tests" | "failures" | "errors"): string => String(suites.reduce((n, s) => n + s[key], 0));
  return {
    tests: sum("tests"),
    failures: sum("failures"),
    errors: sum("errors"),
  };
}

export function junitXml(run: RunData): string {
  const doc = create({ version: "1.0", encoding: "UTF-8" });
  const root = doc.ele("testsuites", {
    name: "django-concurrent-test",
    time: seconds3(run.wallSeconds),
  });
  const byLabel = new Map<string, ClassData[]>();
  for (const cls of run.classes) {
    byLabel.set(cls.label, [...(byLabel.get(cls.label) ?? []), cls]);
  }
  const suites = [...byLabel.values()].map((parts, i) => addSuite(root, run, parts, i));
  root.att(suiteTotals(suites));
  return doc.end({ prettyPrint: true }) + "\n";
}

export class JunitReporter implements Reporter {
  constructor(private readonly file: string) {}

  async finish(ctx: ReportContext): Promise<void> {
    const file = path.resolve(ctx.hello.cwd, this.file);
    await writeReportFile(file, junitXml(buildRunData(ctx)));
    if (ctx.config.django.verbosity >= 1) ctx.stderr(`JUnit XML report written to ${this.file}\n`);
  }
}

// Merging the reports of the N shards of a CI matrix into one (the `merge-reports` command), as if
// one machine had run the suite: the JUnit XML files (every <testsuite> under one <testsuites>),
// the HTML reports (one report, a timeline row per worker of every shard) and the timings files
// (per class, the newest measurement), so the next run's shards balance on them.
// It checks that the shards came from one plan and that no test ran twice.
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { create } from "xmlbuilder2";
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces.js";
import { extractReportData, renderHtml } from "./html.ts";
import { writeReportFile } from "./files.ts";
import { suiteTotals } from "./junit.ts";
import { REPORT_DATA_VERSION, type ReportData } from "./report-data.ts";
import { TIMINGS_VERSION, type ClassTiming } from "../scheduling/timings.ts";

export interface MergeInputs {
  junit: string[];
  html: string[];
  timings: string[];
}

export interface MergeOutputs {
  junitxml?: string;
  html?: string;
  timings?: string;
}

/** An input or option merge-reports cannot use: exit 2, one line and a hint. */
export class MergeError extends Error {
  override readonly name = "MergeError";
}

interface Element {
  nodeName: string;
  getAttribute(name: string): string | null;
}

const elementOf = (b: XMLBuilder): Element => b.node as unknown as Element;

/** Files given directly, and the .xml/.html/.json files directly inside given directories. */
export async function collectInputs(paths: string[]): Promise<MergeInputs> {
  const files: string[] = [];
  for (const p of paths) {
    const info = await stat(p).catch(() => {
      throw new MergeError(`${p}: no such file or directory`);
    });
    if (info.isDirectory()) {
      for (const name of (await readdir(p)).sort()) files.push(path.join(p, name));
    } else {
      files.push(p);
    }
  }
  const by = (ext: string): string[] => files.filter((f) => f.toLowerCase().endsWith(ext));
  return { junit: by(".xml"), html: by(".html"), timings: by(".json") };
}

/** The shard a <testsuite> says it ran on (its "shard" and "shard-plan" properties). */
function shardOf(suite: XMLBuilder): { index: number; total: number; plan: string } | null {
  const props = new Map<string, string>();
  for (const p of suite.filter((n) => elementOf(n).nodeName === "property", false, true)) {
    props.set(elementOf(p).getAttribute("name") ?? "", elementOf(p).getAttribute("value") ?? "");
  }
  const match = /^(\d+)\/(\d+)$/.exec(props.get("shard") ?? "");
  return match
    ? {
        index: Number(match[1]),
        total: Number(match[2]),
        plan: props.get("shard-plan") ?? "",
      }
    : null;
}

/** The <testsuite> elements of JUnit XML documents, under one <testsuites> root. */
export function mergeJunit(documents: { name: string; text: string }[], problems: string[]): string {
  const doc = create({ version: "1.0", encoding: "UTF-8" });
  const root = doc.ele("testsuites", { name: "django-concurrent-test" });
  const seen = new Map<string, string>();
  const counts: { tests: number; failures: number; errors: number }[] = [];
  const shards: ({ index: number; total: number; plan: string } | null)[] = [];
  let time = 0;
  for (const { name, text } of documents) {
    let parsed: XMLBuilder;
    try {
      parsed = create(text).root();
    } catch (error) {
      throw new MergeError(`${name} is not well-formed XML: ${(error as Error).message.split("\n")[0]}`);
    }
    const top = elementOf(parsed);
    if (top.nodeName !== "testsuites" && top.nodeName !== "testsuite") {
      throw new MergeError(`${name} is not a JUnit XML report (its root is <${top.nodeName}>)`);
    }
    // Shards run side by side: the merged run took as long as its longest shard.
    time = Math.max(time, Number(top.getAttribute("time") ?? 0) || 0);
    const suites =
      top.nodeName === "testsuite" ? [parsed] : parsed.filter((n) => elementOf(n).nodeName === "testsuite");
    if (suites.length > 0) shards.push(shardOf(suites[0]!));
    for (const suite of suites) {
      const el = elementOf(suite);
      counts.push({
        tests: Number(el.getAttribute("tests") ?? 0),
        failures: Number(el.getAttribute("failures") ?? 0),
        errors: Number(el.getAttribute("errors") ?? 0),
      });
      for (const tc of suite.filter((n) => elementOf(n).nodeName === "testcase")) {
        const key = `${elementOf(tc).getAttribute("classname") ?? ""}::${elementOf(tc).getAttribute("name") ?? ""}`;
        const before = seen.get(key);
        if (before !== undefined)
          problems.push(`${key.replace("::", ".")} is in both ${before} and ${name}: the shards overlap`);
        else seen.set(key, name);
      }
      root.import(suite);
    }
  }
  checkShards(shards, problems);
  root.att({ time: time.toFixed(3), ...suiteTotals(counts) });
  return doc.end({ prettyPrint: true }) + "\n";
}

/** Report data of every shard, in shard order; checks that they came from one plan. */
export function mergeReportData(parts: ReportData[], problems: string[]): ReportData {
  const runs = parts.flatMap((p) => p.runs).sort((a, b) => (a.shard?.index ?? 0) - (b.shard?.index ?? 0));
  checkShards(
    runs.map((r) => r.shard),
    problems,
  );
  return {
    version: REPORT_DATA_VERSION,
    generatedAt: new Date().toISOString(),
    runs,
  };
}

export function checkShards(
  shards: ({ index: number; total: number; plan: string } | null)[],
  problems: string[],
): void {
  const sharded = shards.filter((s): s is NonNullable<typeof s> => s !== null);
  if (sharded.length === 0) return;
  if (sharded.length !== shards.length)
    problems.push("some reports come from sharded runs and some from unsharded ones");
  const plans = new Set(sharded.map((s) => `${s.total}:${s.plan}`));
  if (plans.size > 1) {
    problems.push(
      `the shards planned differently (${[...plans].join(", ")}): give every shard the same timings file and the same test selection`,
    );
  }
  const total = sharded[0]!.total;
  const indices = sharded.map((s) => s.index);
  for (let i = 1; i <= total; i++) {
    const n = indices.filter((x) => x === i).length;
    if (n === 0) problems.push(`shard ${i}/${total} is missing`);
    if (n > 1) problems.push(`shard ${i}/${total} is there ${n} times`);
  }
}

/** Per class, the most recently measured entry of any shard's timings file. */
export function mergeTimingsFiles(files: { name: string; text: string }[]): string {
  const merged: Record<string, ClassTiming> = {};
  for (const { name, text } of files) {
    let data: { version?: unknown; classes?: Record<string, ClassTiming> };
    try {
      data = JSON.parse(text) as typeof data;
    } catch {
      throw new MergeError(`${name} is not JSON`);
    }
    if (data.version !== TIMINGS_VERSION || typeof data.classes !== "object" || data.classes === null) {
      throw new MergeError(`${name} is not a timings file of version ${TIMINGS_VERSION}`);
    }
    for (const [label, entry] of Object.entries(data.classes)) {
      const old = merged[label];
      if (!old || String(entry.updated ?? "") > String(old.updated ?? "")) merged[label] = entry;
    }
  }
  const sorted = Object.fromEntries(Object.entries(merged).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return JSON.stringify({ version: TIMINGS_VERSION, classes: sorted }, null, 1) + "\n";
}

async function readAll(files: string[]): Promise<{ name: string; text: string }[]> {
  return Promise.all(files.map(async (name) => ({ name, text: await readFile(name, "utf8") })));
}

/** Writes the merged reports; returns the problems found (overlapping or missing shards). */
export async function mergeReports(
  inputs: MergeInputs,
  outputs: MergeOutputs,
): Promise<{ problems: string[]; written: string[] }> {
  const problems: string[] = [];
  const written: string[] = [];
  if (outputs.junitxml) {
    if (inputs.junit.length === 0) throw new MergeError("--junitxml: no JUnit XML (.xml) input given");
    await writeReportFile(
      outputs.junitxml,
      mergeJunit(
        await readAll(inputs.junit.filter((f) => path.resolve(f) !== path.resolve(outputs.junitxml!))),
        problems,
      ),
    );
    written.push(outputs.junitxml);
  }
  if (outputs.html) {
    if (inputs.html.length === 0) throw new MergeError("--html: no HTML report (.html) input given");
    const parts = (await readAll(inputs.html.filter((f) => path.resolve(f) !== path.resolve(outputs.html!)))).map(
      ({ name, text }) => {
        try {
          return extractReportData(text, name);
        } catch (error) {
          throw new MergeError((error as Error).message);
        }
      },
    );
    await writeReportFile(outputs.html, renderHtml(mergeReportData(parts, problems)));
    written.push(outputs.html);
  }
  if (outputs.timings) {
    if (inputs.timings.length === 0) throw new MergeError("--timings: no timings (.json) input given");
    await writeReportFile(
      outputs.timings,
      mergeTimingsFiles(
        await readAll(inputs.timings.filter((f) => path.resolve(f) !== path.resolve(outputs.timings!))),
      ),
    );
    written.push(outputs.timings);
  }
  return { problems: [...new Set(problems)], written };
}

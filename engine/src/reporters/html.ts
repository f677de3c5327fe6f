// --html=PATH: one self-contained HTML file (styles, script and data inline; a
// Content-Security-Policy that allows no request at all), readable offline and attachable to a
// CI run. The data block is the run's ReportData, which merge-reports reads back from shards.
import path from "node:path";
import type { Reporter, ReportContext } from "./reporter.ts";
import { REPORT_CSS, REPORT_JS } from "./html-client.ts";
import { writeReportFile } from "./files.ts";
import { buildReportData, REPORT_DATA_VERSION, type ReportData } from "./report-data.ts";

const DATA_ID = "dct-report-data";

/** JSON that is safe inside <script>: no "</script>", no "<!--". */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

export function renderHtml(data: ReportData): string {
  const counts = data.runs.reduce(
    (acc, r) => ({
      tests: acc.tests + r.testsRun,
      failed: acc.failed + r.counts.failure + r.counts.error + r.counts.unexpectedSuccess,
    }),
    { tests: 0, failed: 0 },
  );
  const title = `Test report: ${counts.tests} tests, ${counts.failed ? `${counts.failed} failed` : "all passed"}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<header><h1>${escapeHtml(title)}</h1><div class="meta" id="meta"></div></header>
<main>
<section><div class="cards" id="cards"></div></section>
<section><h2>Worker timeline</h2><div class="timeline" id="timeline"></div></section>
<section><h2>Slowest tests</h2>
<table id="slowest"><thead><tr><th class="num">time</th><th>test</th><th>worker</th></tr></thead><tbody></tbody></table>
</section>
<section id="results"><h2>Results</h2>
<div class="controls" id="filters"></div>
<div class="controls"><input type="search" id="search" placeholder="Search tests, classes, tracebacks, output…" aria-label="search"><span class="count" id="shown"></span></div>
<table><thead><tr><th>outcome</th><th>test</th><th>class</th><th>worker</th><th class="num">time</th></tr></thead><tbody></tbody></table>
</section>
</main>
<noscript><p>The report needs JavaScript to draw; its data is in the page source.</p></noscript>
<script type="application/json" id="${DATA_ID}">${scriptJson(data)}</script>
<script>${REPORT_JS}</script>
</body>
</html>
`;
}

/** The data block of a report written by renderHtml (for merge-reports). */
export function extractReportData(html: string, source: string): ReportData {
  const match = new RegExp(`<script type="application/json" id="${DATA_ID}">([\\s\\S]*?)</script>`).exec(html);
  if (!match) throw new Error(`${source} is not an HTML report of django-concurrent-test (no data block)`);
  const data = JSON.parse(match[1]!) as ReportData;
  if (data.version !== REPORT_DATA_VERSION || !Array.isArray(data.runs)) {
    throw new Error(`${source} holds report data of an unknown version (${String(data.version)})`);
  }
  return data;
}

export class HtmlReporter implements Reporter {
  constructor(private readonly file: string) {}

  async finish(ctx: ReportContext): Promise<void> {
    await writeReportFile(path.resolve(ctx.hello.cwd, this.file), renderHtml(buildReportData(ctx)));
    if (ctx.config.django.verbosity >= 1) ctx.stderr(`HTML report written to ${this.file}\n`);
  }
}

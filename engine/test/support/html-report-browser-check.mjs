// Opens an HTML report in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core) and prints what a person would see, as JSON, for tests/test_reports.py:
// console errors, any request besides the file itself, timeline rows, and whether the outcome
// filter and the search change which results are shown. Writes a screenshot.
// Usage: node html-report-browser-check.mjs REPORT.html SCREENSHOT.png
import path from "node:path";
import { chromium } from "playwright-core";

const [report, screenshot] = process.argv.slice(2);
const url = "file://" + path.resolve(report);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  const page = await browser.newPage({
    viewport: { width: 1280, height: 900 },
  });
  const consoleErrors = [];
  const requests = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") consoleErrors.push(msg.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(String(error)));
  page.on("request", (request) => {
    if (request.url() !== url) requests.push(request.url());
  });
  await page.goto(url, { waitUntil: "load" });
  const visible = () => page.locator("tr.result:not(.hidden)").count();
  const timelineRows = await page.locator("#timeline g.tl-row").count();
  const timelineLabels = await page
    .locator("#timeline g.tl-row > text")
    .allTextContents();
  const bars = await page.locator("#timeline rect.bar").count();
  const failedBars = await page.locator("#timeline rect.bar-failed").count();
  const failMarks = await page.locator("#timeline rect.fail-mark").count();
  const allShown = await visible();
  await page.locator('input[data-outcome="success"]').uncheck();
  const withoutPassed = await visible();
  await page.locator('input[data-outcome="success"]').check();
  await page.locator("#only-problems").click();
  const problemsOnly = await visible();
  const problemOutcomes = await page
    .locator("tr.result:not(.hidden)")
    .evaluateAll((rows) => [...new Set(rows.map((r) => r.dataset.outcome))]);
  for (const box of await page.locator("#filters input").all())
    await box.check();
  await page.locator("#search").fill(process.env.SEARCH ?? "zzz-no-such-test");
  const searched = await visible();
  await page.locator("#search").fill("");
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(
    JSON.stringify({
      consoleErrors,
      requests,
      title: await page.title(),
      timelineRows,
      timelineLabels,
      bars,
      failedBars,
      failMarks,
      allShown,
      withoutPassed,
      problemsOnly,
      problemOutcomes,
      searched,
      cards: await page.locator("#cards .card").allTextContents(),
    }),
  );
} finally {
  await browser.close();
}

// The registry of the reporters a run writes besides the console (JUnit, HTML, benchmark), each
// guarded so that a report that cannot be written never hides the run's own outcome.
import type { RunConfig } from "../config/resolve.ts";
import { BenchmarkReporter } from "./benchmark.ts";
import { HtmlReporter } from "./html.ts";
import { JunitReporter } from "./junit.ts";
import type { Reporter, ReportContext } from "./reporter.ts";

/** A report that could not be written says so in one line; it never hides the run's own outcome. */
class Guarded implements Reporter {
  constructor(
    private readonly what: string,
    private readonly inner: Reporter,
  ) {}

  async finish(ctx: ReportContext): Promise<void> {
    try {
      await this.inner.finish(ctx);
    } catch (error) {
      ctx.stderr(`django-concurrent-test: could not write the ${this.what}: ${(error as Error).message}\n`);
    }
  }
}

/** Reporters chosen by the configuration: files first, the benchmark summary last on screen. */
export function reportersFor(config: RunConfig): Reporter[] {
  const reporters: Reporter[] = [];
  if (config.junitXml) reporters.push(new Guarded("JUnit XML report", new JunitReporter(config.junitXml)));
  if (config.html) reporters.push(new Guarded("HTML report", new HtmlReporter(config.html)));
  if (config.benchmark) reporters.push(new Guarded("benchmark summary", new BenchmarkReporter()));
  return reporters;
}

// The reporters a run writes besides the console: each sees the finished results once the run
// (teardown included) is over, so its numbers cover the whole run.
import type { RunConfig } from "../config/resolve.ts";
import type { BridgeHello } from "../protocol/messages.ts";
import type { RunResults } from "../results.ts";
import { BenchmarkReporter } from "./benchmark.ts";
import { HtmlReporter } from "./html.ts";
import { JunitReporter } from "./junit.ts";

export interface ReportContext {
  results: RunResults;
  config: RunConfig;
  hello: BridgeHello;
  /** Workers the run used (min of the configured count and the number of classes). */
  workers: number;
  /** Clone operations made and failed. */
  cloneStats: { clones: number; errors: number };
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export interface Reporter {
  /** Called once, after teardown; may write files or print. */
  finish(ctx: ReportContext): void | Promise<void>;
}

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

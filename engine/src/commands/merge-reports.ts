// `django-concurrent-test merge-reports`: the command line of merging CI shards' reports
// (reporters/merge.ts does the merging); a problem with the shards exits 1, a bad input 2.
import type { Command } from "commander";
import { EXIT } from "../core/errors.ts";
import { collectInputs, MergeError, mergeReports, type MergeOutputs } from "../reporters/merge.ts";

const MERGE_HINT =
  "give the shards' --junitxml and --html reports and their .django-concurrent-test/shards/ timings files, or the directories holding them";

export function addMergeReportsCommand(program: Command): void {
  program
    .command("merge-reports")
    .description("merge the reports of CI shards (--shard=i/N) into one")
    .argument(
      "<inputs...>",
      "report files of the shards, or directories holding them (.xml JUnit, .html reports, .json timings)",
    )
    .option("--junitxml <path>", "write the merged JUnit XML here")
    .option("--html <path>", "write the merged HTML report here")
    .option("--timings <path>", "write the merged timings file here (e.g. .django-concurrent-test/timings.json)")
    .action(async (paths: string[], flags: MergeOutputs) => {
      try {
        if (!flags.junitxml && !flags.html && !flags.timings) {
          throw new MergeError("say what to write: --junitxml PATH, --html PATH and/or --timings PATH");
        }
        const { problems, written } = await mergeReports(await collectInputs(paths), flags);
        for (const file of written) process.stderr.write(`merge-reports: wrote ${file}\n`);
        for (const problem of problems) process.stderr.write(`merge-reports: ${problem}\n`);
        process.exitCode = problems.length > 0 ? EXIT.testsFailed : EXIT.ok;
      } catch (error) {
        if (!(error instanceof MergeError)) throw error;
        process.stderr.write(`${error.name}: ${error.message}\nHint: ${MERGE_HINT}\n`);
        process.exitCode = EXIT.configError;
      }
    });
}

// --timing: where the run's time went, in the shape of Django's TimeKeeper output.
import type { RunResults } from "../results/run-results.ts";

/** `includeTotal`: Django's test command prints the total itself under manage.py. */
export function printTiming(results: RunResults, write: (text: string) => void, includeTotal: boolean): void {
  const s = (phase: Parameters<RunResults["phaseSeconds"]>[0]): string => results.phaseSeconds(phase).toFixed(3);
  const setup = results.phaseSeconds("template") + results.phaseSeconds("clones");
  write(`Total discovery took ${s("discovery")}s\n`);
  write(`Total database setup took ${setup.toFixed(3)}s\n`);
  write(`  Creating templates took ${s("template")}s\n`);
  write(`  Cloning took ${s("clones")}s\n`);
  write(`Total tests took ${s("tests")}s\n`);
  write(`Total database teardown took ${s("teardown")}s\n`);
  if (includeTotal) write(`Total run took ${(results.now() / 1000).toFixed(3)}s\n`);
}

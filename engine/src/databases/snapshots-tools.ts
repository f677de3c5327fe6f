// Runs a database client tool for snapshots (pg_dump, pg_restore): arguments carry no secret
// (the password and connection settings go through the environment), the payload streams
// through stdin or stdout, and any failure, a missing tool included, is one error saying why.
import { spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";

export interface ToolRun {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Piped into the tool's stdin. */
  input?: Readable;
  /** Receives the tool's stdout (and is ended with it). */
  output?: Writable;
}

/** The last lines of what the tool said, for the error. */
const STDERR_KEPT = 2000;

export function runTool(run: ToolRun): Promise<void> {
  const child = spawn(run.command, run.args, {
    env: run.env,
    stdio: [run.input ? "pipe" : "ignore", run.output ? "pipe" : "ignore", "pipe"],
  });
  let said = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    said = (said + chunk.toString("utf8")).slice(-STDERR_KEPT);
  });
  const streams: Promise<void>[] = [];
  if (run.input) streams.push(pipeline(run.input, child.stdin!));
  if (run.output) streams.push(pipeline(child.stdout!, run.output));
  const exited = new Promise<void>((resolve, reject) => {
    child.on("error", (error: NodeJS.ErrnoException) =>
      reject(new Error(error.code === "ENOENT" ? `${run.command} is not installed (not on PATH)` : error.message)),
    );
    child.on("close", (code, signal) => {
      if (code === 0) resolve();
      const why =
        said.trim().split("\n").slice(-3).join(" ") || (signal ? `killed by ${signal}` : `exit status ${code}`);
      reject(new Error(`${run.command} failed: ${why}`));
    });
  });
  // The tool's own verdict first: a broken pipe only means it stopped reading.
  return Promise.allSettled(streams).then(async (settled) => {
    await exited;
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) throw failed.reason;
  });
}

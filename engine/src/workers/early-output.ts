// What a worker's tests wrote before it attached to its clones. The worker holds that text in
// files named by the pool (worker.heldOutput + ".stdout" / ".stderr") and writes it out at
// attach; a worker that dies first (a crash, a kill) cannot, so the pool does, and the text a
// test printed just before it crashed the worker is not lost with it.
import { rmSync } from "node:fs";
import { readFrom } from "./stacks.ts";

export type OutputStream = "stdout" | "stderr";

export type EarlyOutputSink = (stream: OutputStream, text: string) => void;

/** Writes out what a lost worker still held, once (the files are removed). */
export function recoverEarlyOutput(prefix: string, sink: EarlyOutputSink): void {
  for (const stream of ["stdout", "stderr"] as const) {
    const file = `${prefix}.${stream}`;
    const text = readFrom(file);
    rmSync(file, { force: true });
    if (text) sink(stream, text);
  }
}

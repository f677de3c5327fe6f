// Where a worker was when it was lost. Each worker has faulthandler write every thread's stack
// to a file of its own: on a fatal signal (segfault, abort) by itself, and on SIGUSR1, which the
// pool sends before killing a worker that ran out of time. Read back here for the report.
import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";

/** Size of a file, 0 when it does not exist. */
function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** The file's text from `offset` on ("" when there is none). */
export function readFrom(file: string, offset = 0): string {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return "";
  }
  try {
    // The open file's size: the pool may remove its folder meanwhile (a run that is stopping).
    const size = fstatSync(fd).size;
    if (size <= offset) return "";
    const buffer = Buffer.alloc(size - offset);
    readSync(fd, buffer, 0, buffer.length, offset);
    return buffer.toString("utf8");
  } finally {
    closeSync(fd);
  }
}

/**
 * Asks a live worker for its stacks (`signal` sends it SIGUSR1) and waits briefly for faulthandler to write them.
 * A frozen process (stopped, or stuck in the kernel) writes nothing: then null.
 */
export async function requestStacks(
  signal: (signal: NodeJS.Signals) => boolean,
  file: string,
  waitMs = 500,
): Promise<string | null> {
  const before = sizeOf(file);
  if (!signal("SIGUSR1")) return null;
  const deadline = Date.now() + waitMs;
  let last = before;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    const size = sizeOf(file);
    // Written and no longer growing: faulthandler has finished.
    if (size > before && size === last) break;
    last = size;
  }
  const text = cleanStacks(readFrom(file, before));
  return text || null;
}

/**
 * faulthandler's dump without the worker's own heartbeat thread (it is always there and says
 * nothing about the test). Blocks are separated by blank lines.
 */
export function cleanStacks(dump: string): string {
  const blocks = dump.replace(/\r\n/g, "\n").split(/\n\s*\n/);
  const kept = blocks.filter((block) => block.trim() !== "" && !/ in _heartbeat_loop\b/.test(block));
  return kept.map(withoutWorkerFrames).join("\n\n").trim();
}

/** Drops the frames below the worker's run_class (the worker's and the bridge's own loop). */
function withoutWorkerFrames(block: string): string {
  const lines = block.split("\n");
  const at = lines.findIndex((line) => /django_concurrent_test[\\/]worker\.py", line \d+ in run_class/.test(line));
  return at < 0 ? block : lines.slice(0, at).join("\n");
}

// Who owns a database, and whether that owner is still running. A record names the process
// (pid, host, start time); on this host a process with that pid and start time must exist,
// so a recycled pid does not keep an orphan alive. Owners on other hosts are never judged.
import { readFileSync } from "node:fs";
import os from "node:os";
import type { Owner } from "./records.ts";

/** Start times of one process read twice may differ by clock-tick rounding. */
const START_TOLERANCE_MS = 2_000;

let me: Owner | undefined;

/** This engine process as an owner. */
export function currentOwner(): Owner {
  me ??= {
    pid: process.pid,
    host: os.hostname(),
    started: processStartTime(process.pid) ?? Math.round(Date.now() - process.uptime() * 1000),
  };
  return me;
}

export function isCurrentOwner(owner: Owner | null): boolean {
  const self = currentOwner();
  return owner !== null && owner.pid === self.pid && owner.host === self.host && owner.started === self.started;
}

/** Start time of a process on this host (Linux /proc), or null when unknown or gone. */
export function processStartTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[19]);
    const btime = /^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"));
    if (!btime || !Number.isFinite(ticks)) return null;
    return Number(btime[1]) * 1000 + Math.round((ticks * 1000) / CLOCK_TICKS);
  } catch {
    return null;
  }
}

/** USER_HZ: 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100;

/** Whether a process of that pid runs (one we may not signal counts; a zombie does not). */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  // A killed process nobody has reaped yet (a zombie) is gone for our purposes.
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return true;
  }
}

export type Liveness = "alive" | "gone" | "elsewhere";

/** Whether the owner still runs: "elsewhere" when it ran on another host (not judged). */
export function ownerLiveness(owner: Owner): Liveness {
  if (owner.host !== os.hostname()) return "elsewhere";
  if (isCurrentOwner(owner)) return "alive";
  if (!pidExists(owner.pid)) return "gone";
  const started = processStartTime(owner.pid);
  if (started !== null && Math.abs(started - owner.started) > START_TOLERANCE_MS) return "gone";
  return "alive";
}

export function describeOwner(owner: Owner): string {
  return `pid ${owner.pid} on ${owner.host}, started ${new Date(owner.started).toISOString()}`;
}

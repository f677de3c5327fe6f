// How worker processes are started, signalled and seen to exit: one launcher per start method.
// Fork asks the bridge (a warm Python process, like Django's own fork) and learns each pid and
// exit status from it; spawn starts `python -m django_concurrent_test.worker` itself. The pool
// only talks to the WorkerLauncher interface, so a test can hand it fake workers instead.
import { spawn } from "node:child_process";
import os from "node:os";
import { pidExists } from "../databases/owner.ts";
import type { Channel } from "../protocol/channel.ts";
import type { FromBridge, ToBridge } from "../protocol/messages.ts";

/** How a process ended: an exit status, or the name of the signal that killed it. */
export interface ProcessExit {
  code: number | null;
  signal: string | null;
}

/** One worker process the pool asks for, and where the launcher reports what becomes of it. */
export interface LaunchTarget {
  readonly slot: number;
  /** The process exists and has this pid. */
  onPid(pid: number): void;
  /** The process exited. */
  onExit(exit: ProcessExit): void;
}

export interface WorkerLauncher {
  /** Starts one process per target; each connects to `socketPath` and says hello with its slot. */
  launch(targets: readonly LaunchTarget[], socketPath: string): void;
  /** Sends a signal to a process this launcher started; false when it is gone. */
  signal(pid: number, signal: NodeJS.Signals): boolean;
  /** Whether the process still runs (an exited process not yet reaped counts as gone). */
  isAlive(pid: number): boolean;
  /** Waits, at most `timeoutMs`, for the pids of processes asked for but not known yet. */
  settle(timeoutMs: number): Promise<void>;
}

/** What the fork launcher needs of the bridge (BridgeClient). */
export interface ForkingBridge {
  readonly channel: Channel<FromBridge, ToBridge>;
  forkWorkers(socketPath: string, slots: number[]): void;
}

export type StartMethod = "fork" | "spawn";

export interface LaunchSettings {
  startMethod: StartMethod;
  bridge: ForkingBridge;
  /** The interpreter and environment of spawned workers. */
  python: string;
  env: NodeJS.ProcessEnv;
}

export function launcherFor(settings: LaunchSettings): WorkerLauncher {
  return settings.startMethod === "fork"
    ? new ForkLauncher(settings.bridge)
    : new SpawnLauncher(settings.python, settings.env);
}

const SIGNAL_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(os.constants.signals).map(([name, number]) => [number, name]),
);

/** Workers forked by the bridge: it answers `forked` with each pid and reports each exit. */
export class ForkLauncher implements WorkerLauncher {
  /** Fork requests the bridge has not answered yet, per slot. */
  private readonly pending = new Map<number, LaunchTarget>();
  private readonly byPid = new Map<number, LaunchTarget>();

  constructor(private readonly bridge: ForkingBridge) {
    bridge.channel.on("message", (message) => {
      if (message.type === "forked") this.forked(message.slot, message.pid);
      if (message.type === "workerExited") {
        const signal = message.signal === null ? null : (SIGNAL_NAMES[message.signal] ?? String(message.signal));
        this.byPid.get(message.pid)?.onExit({ code: message.code, signal });
      }
    });
  }

  launch(targets: readonly LaunchTarget[], socketPath: string): void {
    if (targets.length === 0) return;
    for (const target of targets) this.pending.set(target.slot, target);
    this.bridge.forkWorkers(
      socketPath,
      targets.map((t) => t.slot),
    );
  }

  private forked(slot: number, pid: number): void {
    const target = this.pending.get(slot);
    if (!target) return;
    this.pending.delete(slot);
    this.byPid.set(pid, target);
    target.onPid(pid);
  }

  signal(pid: number, signal: NodeJS.Signals): boolean {
    return signalQuietly(pid, signal);
  }

  isAlive(pid: number): boolean {
    return pidExists(pid);
  }

  async settle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending.size > 0 && !this.bridge.channel.closed && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Workers started as fresh interpreters: slower to start, independent of the bridge. */
export class SpawnLauncher implements WorkerLauncher {
  constructor(
    private readonly python: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  launch(targets: readonly LaunchTarget[], socketPath: string): void {
    for (const target of targets) {
      const child = spawn(
        this.python,
        ["-m", "django_concurrent_test.worker", "--socket", socketPath, "--slot", String(target.slot)],
        { stdio: ["ignore", "inherit", "inherit"], env: this.env },
      );
      if (child.pid) target.onPid(child.pid);
      child.on("error", () => undefined); // a failed spawn also emits "exit"
      child.on("exit", (code, signal) => target.onExit({ code, signal }));
    }
  }

  signal(pid: number, signal: NodeJS.Signals): boolean {
    return signalQuietly(pid, signal);
  }

  isAlive(pid: number): boolean {
    return pidExists(pid);
  }

  async settle(): Promise<void> {}
}

function signalQuietly(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false; // already gone
  }
}

// What the pool knows about one worker process: the record every part of the pool reads and
// updates (the pool's state machine, the handshake, supervision, losses).
import path from "node:path";
import type { Channel } from "../protocol/channel.ts";
import type { FromWorker, ToWorker } from "../protocol/messages.ts";
import type { WorkItem } from "../scheduling/queue.ts";
import type { LossKind } from "./incidents.ts";
import type { ProcessExit } from "./processes.ts";

/**
 * starting: asked for, not ready yet; idle/busy: ready, without or with an item; killing: the
 * pool is killing it (timeout, frozen); stopping: asked to exit (end of run, interrupt); lost: gone.
 */
export type WorkerState = "starting" | "idle" | "busy" | "killing" | "stopping" | "lost";

export type WorkerChannel = Channel<FromWorker, ToWorker>;

export interface Worker {
  slot: number;
  /** 1 for a slot's first worker, +1 for each replacement. */
  generation: number;
  pid?: number;
  channel?: WorkerChannel;
  state: WorkerState;
  ready: boolean;
  /** Whether its connections point at its clones yet ("attaching": told, no answer yet). */
  databases: "none" | "attaching" | "attached";
  /** performance.now() values: when it was asked to start, when it was last heard from. */
  startedAt: number;
  lastSeen: number;
  item?: WorkItem;
  itemStartedAt: number;
  runningTest?: string;
  runningSince: number;
  /** Tests of the current item that have a result (stopped or an outcome). */
  done: Set<string>;
  itemFailed: boolean;
  exit?: ProcessExit;
  /** Set when the pool itself killed the worker, and why. */
  killed?: {
    kind: Exclude<LossKind, "crash">;
    message: string;
    stacks: string | null;
    /** performance.now() when it was killed. */
    at: number;
  };
  /** Its channel closed (everything it sent has been read). */
  closed: boolean;
  /** Its loss was handled (once, whichever of exit and close comes last). */
  handled: boolean;
  exitWait?: NodeJS.Timeout;
  /** Ends once idle, for a fresh worker in its slot (see WorkerPool.attachDatabases). */
  retiring?: boolean;
  /** Where faulthandler writes its stacks (one file per worker, in the pool's directory). */
  stackFile: string;
  /** Path prefix of the files holding what its tests write before attach (early-output.ts). */
  heldOutput: string;
}

export function newWorker(slot: number, generation: number, dir: string): Worker {
  const now = performance.now();
  return {
    slot,
    generation,
    state: "starting",
    ready: false,
    databases: "none",
    startedAt: now,
    lastSeen: now,
    itemStartedAt: 0,
    runningSince: 0,
    done: new Set(),
    itemFailed: false,
    closed: false,
    handled: false,
    stackFile: path.join(dir, `stack-${slot}-${generation}.txt`),
    heldOutput: path.join(dir, `held-${slot}-${generation}`),
  };
}

/** A worker the pool ended or is ending: a process that turns up for it is killed at once. */
export function isUnwanted(worker: Worker): boolean {
  return worker.state === "stopping" || worker.state === "lost" || worker.killed !== undefined;
}

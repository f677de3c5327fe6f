// The handshake: a worker connects to the pool's socket and says hello with its slot; the pool
// answers configure (the run's options, its heartbeat interval and stack file, and its clones if
// they exist already); the worker answers ready. A worker configured before the clones existed
// is told them later with attach, and answers attached.
import type { Socket } from "node:net";
import type { SlotDatabases } from "../databases/clones.ts";
import { Channel } from "../protocol/channel.ts";
import type { CloneSpec, FromWorker, ToWorker, WorkerHello } from "../protocol/messages.ts";
import type { Worker, WorkerChannel } from "./worker.ts";

type ConfigureMessage = Extract<ToWorker, { type: "configure" }>;

/** What every worker is configured with (the pool adds its clones and its supervision). */
export type ConfigureBase = Omit<ConfigureMessage, "type" | "clones" | "supervision">;

/** What the handshake needs of the pool. */
export interface HandshakeHost {
  /** The current worker of a slot. */
  workerFor(slot: number): Worker | undefined;
  /** The worker said hello from a pid other than the one its launcher reported. */
  learnedPid(worker: Worker, pid: number): void;
  /** A process nobody waits for said hello (started just before an interrupt): end it. */
  refuse(pid: number): void;
  /** Any message after hello. */
  message(worker: Worker, message: FromWorker): void;
  /** The worker's channel closed: everything it sent has been read. */
  closed(worker: Worker): void;
  /** The worker sent a line that is not a message: its results are unknown, the run ends. */
  broken(error: Error): void;
}

export class Handshake {
  /** Each slot's clones, once they exist. */
  private databases?: Map<number, Record<string, CloneSpec>>;
  private serializedContents: Record<string, string> = {};

  constructor(
    private readonly host: HandshakeHost,
    private readonly configure: ConfigureBase,
    private readonly heartbeatSeconds: number,
  ) {}

  /** The clones exist: workers that say hello from now on are configured with them. */
  setDatabases(slots: SlotDatabases[], serializedContents: Record<string, string>): void {
    this.databases = new Map(slots.map((s) => [s.slot, s.clones]));
    this.serializedContents = serializedContents;
  }

  /** Serves one connection to the pool's socket. */
  accept(socket: Socket): void {
    const channel: WorkerChannel = new Channel<FromWorker, ToWorker>(socket);
    let worker: Worker | undefined;
    channel.on("garbage", () => this.host.broken(channel.failure!));
    channel.on("message", (message) => {
      if (message.type === "hello") {
        worker = this.greet(channel, message) ?? worker;
        return;
      }
      if (worker) {
        worker.lastSeen = performance.now();
        this.host.message(worker, message);
      }
    });
    channel.on("close", () => {
      if (worker) this.host.closed(worker);
    });
  }

  /** Binds the channel to the slot's waiting worker and configures it (or refuses it). */
  private greet(channel: WorkerChannel, hello: WorkerHello): Worker | undefined {
    const worker = this.host.workerFor(hello.slot);
    if (!worker || worker.channel || worker.state !== "starting") {
      this.host.refuse(hello.pid);
      channel.close();
      return undefined;
    }
    worker.channel = channel;
    if (worker.pid !== hello.pid) this.host.learnedPid(worker, hello.pid);
    worker.lastSeen = performance.now();
    // Configured with its clones when they exist already; else attached once they do.
    if (this.databases) worker.databases = "attaching";
    channel.send({
      type: "configure",
      ...this.configure,
      clones: this.databases?.get(hello.slot) ?? {},
      heldOutput: worker.heldOutput,
      supervision: { heartbeatSeconds: this.heartbeatSeconds, stackFile: worker.stackFile },
    });
    return worker;
  }

  /**
   * Tells a connected worker its slot's clones. False when the slot has none (no alias is
   * used): there is nothing to point anywhere, so the worker counts as attached at once.
   */
  attach(worker: Worker): boolean {
    const clones = this.databases?.get(worker.slot);
    if (!clones || Object.keys(clones).length === 0) return false;
    worker.databases = "attaching";
    worker.channel!.send({
      type: "attach",
      clones,
      serializedAliases: this.configure.serializedAliases,
      serializedContents: this.serializedContents,
    });
    return true;
  }
}

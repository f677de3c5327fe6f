// The engine's side of the bridge: the Python process that inspects settings, discovers tests,
// builds templates with Django's own creation code and forks workers.
import { spawn, type ChildProcess } from "node:child_process";
import { Socket } from "node:net";
import { EngineUnavailable } from "../core/errors.ts";
import { Channel } from "../protocol/channel.ts";
import {
  PROTOCOL_VERSION,
  type BridgeHello,
  type DatabasesReady,
  type Discovered,
  type DjangoOptions,
  type Fingerprinted,
  type FromBridge,
  type SequentialDone,
  type SequentialEvent,
  type TemplateStep,
  type ToBridge,
} from "../protocol/messages.ts";

export class BridgeClient {
  readonly channel: Channel<FromBridge, ToBridge>;
  private teardownSent = false;
  private constructor(
    socket: Socket,
    readonly process: ChildProcess | null,
  ) {
    this.channel = new Channel(socket);
  }

  /** manage.py test: the runner's process is the bridge and handed us a socket as an fd. */
  static fromFd(fd: number): BridgeClient {
    return new BridgeClient(new Socket({ fd, readable: true, writable: true }), null);
  }

  /** npx django-concurrent-test: start `python -m django_concurrent_test.bridge` ourselves. */
  static spawn(python: string, env: NodeJS.ProcessEnv): BridgeClient {
    const child = spawn(python, ["-m", "django_concurrent_test.bridge"], {
      stdio: ["inherit", "inherit", "inherit", "pipe"],
      env: { ...env, DJANGO_CONCURRENT_TEST_BRIDGE_FD: "3" },
    });
    const socket = child.stdio[3] as Socket;
    return new BridgeClient(socket, child);
  }

  async hello(): Promise<BridgeHello> {
    const hello = await this.channel.next("hello");
    if (hello.protocol !== PROTOCOL_VERSION) {
      throw new EngineUnavailable(
        `the Python adapter speaks protocol ${hello.protocol} but this engine speaks ${PROTOCOL_VERSION}`,
        "reinstall the package (pip install --force-reinstall) so the adapter and its bundled engine match",
      );
    }
    return hello;
  }

  async discover(labels: string[], options: DjangoOptions): Promise<Discovered> {
    this.channel.send({ type: "discover", labels, options });
    return this.channel.next("discovered");
  }

  async fingerprint(aliases: string[]): Promise<Fingerprinted> {
    this.channel.send({ type: "fingerprint", aliases });
    return this.channel.next("fingerprinted");
  }

  async setupDatabases(
    keepdb: boolean,
    testNames: Record<string, string>,
    plan?: Record<string, TemplateStep>,
  ): Promise<DatabasesReady> {
    this.channel.send({ type: "setupDatabases", keepdb, testNames, ...(plan ? { plan } : {}) });
    return this.channel.next("databasesReady");
  }

  forkWorkers(socketPath: string, slots: number[]): void {
    this.channel.send({ type: "forkWorkers", socketPath, slots });
  }

  /** Asks the bridge to undo Django's test setup, once: a later call (or a closed channel) is a no-op. */
  async teardown(keepdb: boolean): Promise<void> {
    if (this.channel.closed || this.teardownSent) return;
    this.teardownSent = true;
    this.channel.send({ type: "teardown", keepdb });
    await this.channel.next("tornDown");
  }

  /** Runs the suite in the bridge's process (`classes`: a shard's), each event to `onEvent`. */
  async runSequential(
    classes: number[] | null,
    slot: number,
    onEvent: (event: SequentialEvent) => void,
  ): Promise<SequentialDone> {
    const forward = (message: FromBridge): void => {
      if (SEQUENTIAL_EVENTS.has(message.type)) onEvent(message as SequentialEvent);
    };
    this.channel.on("message", forward);
    try {
      this.channel.send({ type: "runSequential", classes, slot });
      return await this.channel.next("sequentialDone");
    } finally {
      this.channel.off("message", forward);
    }
  }

  fallback(reason: string): void {
    this.channel.send({ type: "fallback", reason });
  }

  async close(): Promise<void> {
    this.channel.send({ type: "shutdown" });
    this.channel.close();
    if (this.process && this.process.exitCode === null) {
      await new Promise<void>((resolve) => this.process!.once("exit", () => resolve()));
    }
  }
}

const SEQUENTIAL_EVENTS = new Set<string>(["phase", "classStart", "classDone", "testStart", "testStop", "outcome"]);

// JSON lines over a stream socket: the only transport between the engine and Python.
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";

export class Channel<In extends { type: string }, Out extends { type: string }> extends EventEmitter {
  /** The parts of a line not yet ended by a newline. */
  private pending: string[] = [];
  closed = false;
  /** Set when the peer sent a line that is not a JSON message: the channel is closed with it. */
  failure: ProtocolError | null = null;

  constructor(readonly socket: Socket) {
    super();
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.onData(chunk));
    socket.on("close", () => {
      this.closed = true;
      this.emit("close");
    });
    // A peer that dies mid-write shows up as close; errors carry no extra meaning here.
    socket.on("error", () => undefined);
  }

  private onData(chunk: string): void {
    // Only the new chunk is searched for a newline: a 50 MB line arrives in hundreds of chunks,
    // and searching the whole buffer again for each one made reading it quadratic.
    let start = 0;
    let newline: number;
    while ((newline = chunk.indexOf("\n", start)) >= 0) {
      this.pending.push(chunk.slice(start, newline));
      start = newline + 1;
      const line = this.pending.join("");
      this.pending = [];
      if (line.trim() === "") continue;
      const message = parseMessage<In>(line);
      if (message === null) return this.abandon(line);
      this.emit("message", message);
    }
    if (start < chunk.length) this.pending.push(chunk.slice(start));
  }

  /** A line the engine cannot read leaves the conversation in an unknown state: waiting for the
   * answer it may have held would hang the run, so the channel closes with the reason. */
  private abandon(line: string): void {
    this.failure = new ProtocolError(
      `the Python process sent a line that is not a JSON message, so the run cannot go on: ${excerpt(line)}`,
    );
    this.pending = [];
    this.emit("garbage", line);
    this.socket.destroy();
  }

  send(message: Out): void {
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(JSON.stringify(message) + "\n");
  }

  /** Resolves with the next message of one of the given types (or rejects on a bridge error). */
  next<T extends In["type"]>(...types: T[]): Promise<Extract<In, { type: T }>> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: In): void => {
        if ((types as string[]).includes(message.type)) {
          cleanup();
          resolve(message as Extract<In, { type: T }>);
        } else if (message.type === "error") {
          cleanup();
          reject(new PeerError(message as unknown as { phase: string; message: string; traceback: string }));
        }
      };
      const onClose = (): void => {
        cleanup();
        reject(
          this.failure ??
            new ChannelClosedError(
              `the Python process closed the channel while the engine waited for ${types.join("/")}`,
            ),
        );
      };
      const cleanup = (): void => {
        this.off("message", onMessage);
        this.off("close", onClose);
      };
      this.on("message", onMessage);
      this.on("close", onClose);
      if (this.closed) onClose();
    });
  }

  close(): void {
    this.socket.end();
  }
}

export class PeerError extends Error {
  readonly phase: string;
  readonly traceback: string;
  constructor(detail: { phase: string; message: string; traceback: string }) {
    super(detail.message);
    this.phase = detail.phase;
    this.traceback = detail.traceback;
  }
}

export class ChannelClosedError extends Error {}

/** The peer broke the protocol (reported like a closed channel: a run error, exit 1). */
export class ProtocolError extends ChannelClosedError {}

/** A JSON object with a string `type`, or null for anything else. */
function parseMessage<T>(line: string): T | null {
  try {
    const value: unknown = JSON.parse(line);
    const ok = typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string";
    return ok ? (value as T) : null;
  } catch {
    return null;
  }
}

const EXCERPT_LENGTH = 200;

function excerpt(line: string): string {
  return JSON.stringify(line.length > EXCERPT_LENGTH ? line.slice(0, EXCERPT_LENGTH) + "…" : line);
}

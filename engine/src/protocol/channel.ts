// JSON lines over a stream socket: the only transport between the engine and Python.
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";

export class Channel<In extends { type: string }, Out extends { type: string }> extends EventEmitter {
  private buffer = "";
  closed = false;

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
    this.buffer += chunk;
    let newline: number;
    while ((newline = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      if (line.trim() === "") continue;
      let message: In;
      try {
        message = JSON.parse(line) as In;
      } catch {
        this.emit("garbage", line);
        continue;
      }
      this.emit("message", message);
    }
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

// The protocol's one definition (protocol/protocol.schema.json) against its shared examples,
// and the engine's JSON-lines channel against the same bytes.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, connect, type Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { Ajv } from "ajv";
import { Channel } from "../src/protocol/channel.ts";
import { PROTOCOL_VERSION } from "../src/protocol/messages.ts";

const root = path.resolve(import.meta.dirname, "..", "..", "protocol");
const schema = JSON.parse(readFileSync(path.join(root, "protocol.schema.json"), "utf8"));
const lines = readFileSync(path.join(root, "examples.jsonl"), "utf8").trim().split("\n");
const examples = lines.map((line) => JSON.parse(line) as { type: string });
const validate = new Ajv({ strict: false }).compile(schema);

test("every example message is valid against the schema", () => {
  for (const example of examples) {
    assert.ok(validate(example), `${JSON.stringify(example)}: ${JSON.stringify(validate.errors)}`);
  }
});

test("every message kind of the schema has an example", () => {
  const kinds = new Set(examples.map((e) => e.type));
  for (const branch of schema.oneOf as {
    properties: { type: { const?: string; enum?: string[] } };
  }[]) {
    for (const kind of branch.properties.type.enum ?? [branch.properties.type.const!]) {
      assert.ok(kinds.has(kind), `no example of ${kind}`);
    }
  }
});

test("malformed messages are rejected by the schema", () => {
  assert.equal(
    validate({
      type: "outcome",
      classIndex: 0,
      test: "t",
      description: "d",
      outcome: "passed",
    }),
    false,
  );
  assert.equal(validate({ type: "run" }), false);
  assert.equal(validate({ type: "hello", role: "worker", protocol: 1, slot: 1, pid: 1 }), false);
});

test("the engine speaks the schema's protocol version", () => {
  assert.equal(PROTOCOL_VERSION, 3);
  assert.match(schema.$id, /\/3$/);
});

test("the channel parses the examples however the bytes are split", async () => {
  const socketPath = path.join(os.tmpdir(), `dct-proto-${process.pid}.sock`);
  const received: unknown[] = [];
  const done = new Promise<void>((resolve) => {
    const server = createServer((socket: Socket) => {
      const channel = new Channel<{ type: string }, { type: string }>(socket);
      channel.on("message", (m) => {
        received.push(m);
        if (received.length === examples.length) {
          server.close();
          socket.destroy();
          resolve();
        }
      });
    });
    server.listen(socketPath, () => {
      const client = connect(socketPath, async () => {
        const bytes = Buffer.from(lines.join("\n") + "\n");
        for (let i = 0; i < bytes.length; i += 7) {
          client.write(bytes.subarray(i, i + 7));
          if (i % 700 === 0) await new Promise((r) => setImmediate(r));
        }
        client.end();
      });
    });
  });
  await done;
  assert.deepEqual(received, examples);
});

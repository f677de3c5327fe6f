// pytest --concurrent: the main pytest process is the bridge and prints every result in
// pytest's format, so the engine prints none itself. It hands each item's outcome back over
// the bridge channel (a worker's, with pytest's reports attached, or one the engine made for
// a test a crashed or timed-out worker lost), and stops handing out work when pytest ends the
// session (-x, --maxfail). Everything else (templates, clones, supervision, timings, reports)
// is the engine's ordinary run.
import type { BridgeClient } from "../bridge/client.ts";
import type { BridgeHello, FromBridge, OutcomeEvent } from "../protocol/messages.ts";
import type { RunResults } from "../results/run-results.ts";

export function isPytestRun(hello: BridgeHello): boolean {
  return hello.runnerOptions?.flavour === "pytest";
}

export interface Stoppable {
  stop(): void;
}

/** Starts relaying; returns the function that ends it. */
export function relayToPytest(
  bridge: Pick<BridgeClient, "channel">,
  results: RunResults,
  queue: Stoppable,
): () => void {
  const onOutcome = (event: OutcomeEvent): void => bridge.channel.send({ type: "pytestOutcome", event });
  const onMessage = (message: FromBridge): void => {
    if (message.type === "stopWork") queue.stop();
  };
  results.on("outcome", onOutcome);
  bridge.channel.on("message", onMessage);
  return () => {
    results.off("outcome", onOutcome);
    bridge.channel.off("message", onMessage);
  };
}

// One run, from the bridge's hello: configuration → safety gate → the decision whether it can be
// concurrent → privileges → the run itself, concurrent (concurrent.ts, as tasks) or sequential
// (sequential.ts). A refusal or an error before the run starts is reported here.
import { BridgeClient } from "../bridge/client.ts";
import { resolveConfig } from "../config/resolve.ts";
import { EXIT } from "../core/errors.ts";
import { checkPrivileges } from "../databases/privileges.ts";
import type { RunnerOptions } from "../protocol/messages.ts";
import type { Terminal } from "../reporters/progress.ts";
import { isPytestRun } from "../reporters/pytest-relay.ts";
import { runSafetyGate } from "../safety/gate.ts";
import { ConcurrentRun } from "./concurrent.ts";
import { checkPytestHandBack, sequentialReason } from "./fallback.ts";
import { reportError as report } from "./report-error.ts";
import { runSequentially } from "./sequential.ts";

export interface RunInput {
  /** Runner mode: the adapter's process is the bridge, reachable on this fd. */
  bridgeFd?: number;
  /** CLI mode: the Python to spawn the bridge with, and the options given on our command line. */
  python?: string;
  cli?: Partial<RunnerOptions>;
  labels?: string[];
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stderr is a terminal (the live progress line), and its width. */
  terminal?: Terminal;
}

export interface RunOutcome {
  exitCode: number;
}

export async function run(input: RunInput): Promise<RunOutcome> {
  const bridge =
    input.bridgeFd !== undefined
      ? BridgeClient.fromFd(input.bridgeFd)
      : BridgeClient.spawn(input.python ?? "python3", input.env);
  const cliMode = input.bridgeFd === undefined;
  try {
    const hello = await bridge.hello();
    const given = { ...(hello.runnerOptions ?? {}), ...stripUndefined(input.cli ?? {}) };
    const config = resolveConfig({
      cli: given,
      labels: input.labels ?? hello.labels ?? [],
      env: input.env,
      settingsConfig: hello.settings.concurrentTestConfig,
    });
    const policy = runSafetyGate(config, hello.settings, input.env);
    // Decided after the gate only: a refusal is never a sequential run.
    const reason = sequentialReason(config, hello.settings, isPytestRun(hello));
    if (reason && isPytestRun(hello)) {
      checkPytestHandBack(config, reason);
      bridge.fallback(reason);
      await bridge.close();
      return { exitCode: EXIT.handBack };
    }
    if (reason) {
      return { exitCode: await runSequentially(bridge, hello, config, reason, { ...input, given, cliMode }) };
    }
    // Connects (to permitted hosts only), so after the gate; only concurrent runs clone.
    await checkPrivileges(hello.settings, policy, config.workers);
    return { exitCode: await new ConcurrentRun(bridge, hello, config, policy, { ...input, cliMode }).run() };
  } catch (error) {
    const exitCode = report(error, input.stderr);
    await bridge.close().catch(() => undefined);
    return { exitCode };
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

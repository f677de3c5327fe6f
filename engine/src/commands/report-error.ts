// How a run that stops on an error says so: one line and a hint for the product's own errors
// (exit 2 for refusals), the Python traceback for a bridge error, a line for a lost channel.
import { ConcurrentTestError, EXIT } from "../core/errors.ts";
import { ChannelClosedError, PeerError } from "../protocol/channel.ts";

export function reportError(error: unknown, stderr: (text: string) => void): number {
  if (error instanceof ConcurrentTestError) {
    stderr(`${error.name}: ${error.message}\n`);
    if (error.hint) stderr(`Hint: ${error.hint}\n`);
    return error.exitCode;
  }
  if (error instanceof PeerError) {
    stderr(error.traceback ? error.traceback : `${error.message}\n`);
    return EXIT.testsFailed;
  }
  if (error instanceof ChannelClosedError) {
    stderr(`django-concurrent-test: ${error.message}\n`);
    return EXIT.testsFailed;
  }
  stderr(`django-concurrent-test: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
  return EXIT.testsFailed;
}

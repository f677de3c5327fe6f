// Exceptions with the same names as python/django_concurrent_test/exceptions.py.
// Each carries the exit status Django users expect: 2 for configuration and safety errors.

export class ConcurrentTestError extends Error {
  readonly exitCode: number = 2;
  /** A one-line hint printed under the message. */
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = new.target.name;
    this.hint = hint;
  }
}

export class ConfigError extends ConcurrentTestError {}
export class SecurityException extends ConcurrentTestError {}
export class UnsupportedDatabase extends ConcurrentTestError {}
export class InsufficientPrivileges extends ConcurrentTestError {}
export class WorkerTimeout extends ConcurrentTestError {}

export class DatabaseTemplateException extends ConcurrentTestError {
  override readonly exitCode = 1;
}

/** Exit statuses of the engine. */
export const EXIT = {
  ok: 0,
  testsFailed: 1,
  configError: 2,
  /** Asks the adapter to run Django's own sequential runner (runner mode only). */
  fallback: 3,
  sigint: 130,
  sigterm: 143,
} as const;

// Exceptions with the same names as python/django_concurrent_test/exceptions.py (a test keeps the
// two lists equal). Each carries its exit status: 2 for configuration and safety refusals.

export class ConcurrentTestException extends Error {
  readonly exitCode: number = 2;
  /** A one-line hint printed under the message. */
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = new.target.name;
    this.hint = hint;
  }
}

/** The base class under its earlier name. */
export { ConcurrentTestException as ConcurrentTestError };

/** A setting, option or environment variable has a value the engine cannot use. */
export class ConfigError extends ConcurrentTestException {}
/** A safety refusal: the run would touch something that is not a test database. */
export class SecurityException extends ConcurrentTestException {}
/** A database vendor the engine cannot clone. */
export class UnsupportedDatabase extends ConcurrentTestException {}
/** The engine cannot start (no usable Node runtime, a damaged bundle, a protocol mismatch). */
export class EngineUnavailable extends ConcurrentTestException {}
/** The database role lacks a privilege the run needs (CREATEDB, CREATE, DROP). */
export class InsufficientPrivileges extends ConcurrentTestException {}

/** Building the template database or a clone of it failed. */
export class DatabaseTemplateException extends ConcurrentTestException {
  override readonly exitCode: number = 1;
}

/** A worker ran one test class for longer than the configured timeout (a run error). */
export class WorkerTimeout extends ConcurrentTestException {
  override readonly exitCode: number = 1;
}

/** Exit statuses of the engine. */
export const EXIT = {
  ok: 0,
  testsFailed: 1,
  configError: 2,
  /** pytest --concurrent only: asks the plugin to run pytest's own loop (after the gate). */
  handBack: 3,
  sigint: 130,
  sigterm: 143,
} as const;

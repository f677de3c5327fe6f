// A run as a list of tasks, each a setup and the teardown that undoes it. The setups run in order
// until one throws or the run is interrupted; then the teardown of every task whose setup started
// runs, last first, whatever happened. A task's teardown undoes what its own setup got to, so
// nothing else has to remember what was made. (The shape of Playwright Test's task runner.)

export interface Task {
  title: string;
  setup?: () => void | Promise<void>;
  /** Runs once the setup has started, also when it threw: it undoes what the setup got to. */
  teardown?: () => void | Promise<void>;
}

export type TaskStatus = "passed" | "failed" | "interrupted";

export interface TaskOutcome {
  /** failed: a setup or a teardown threw; interrupted: the signal stopped the setups early. */
  status: TaskStatus;
  /** The first error thrown, by a setup or else by a teardown. */
  error?: unknown;
}

export interface TaskOptions {
  /** Once aborted, no further setup starts (the one running finishes); the teardowns run. */
  signal?: AbortSignal;
  /** Called once between the last setup and the first teardown. */
  onTeardown?: () => void;
  /** Every error, as it is thrown (a teardown's does not stop the teardowns after it). */
  onError?: (error: unknown, task: Task) => void;
}

export async function runTasks(tasks: readonly Task[], options: TaskOptions = {}): Promise<TaskOutcome> {
  const started: Task[] = [];
  const errors: unknown[] = [];
  const fail = (error: unknown, task: Task): void => {
    errors.push(error);
    options.onError?.(error, task);
  };
  let interrupted = false;
  for (const task of tasks) {
    if (options.signal?.aborted) {
      interrupted = true;
      break;
    }
    started.push(task);
    try {
      await task.setup?.();
    } catch (error) {
      fail(error, task);
      break;
    }
  }
  options.onTeardown?.();
  for (const task of started.reverse()) {
    try {
      await task.teardown?.();
    } catch (error) {
      fail(error, task);
    }
  }
  if (errors.length > 0) return { status: "failed", error: errors[0] };
  return { status: interrupted ? "interrupted" : "passed" };
}

// pytest --concurrent: the messages only the pytest flavour of the bridge speaks. The engine
// never looks inside pytest's reports; it carries them from the worker to the main process.
// (pytestOutcome, which wraps an OutcomeEvent, is in messages.ts with the other events.)

/** What a pytest worker attaches to an item's outcome (pytest_report_to_serializable output). */
export interface PytestPayload {
  location: [string, number | null, string];
  reports: Record<string, unknown>[];
  warnings: Record<string, unknown>[];
}

/** bridge -> engine: pytest ended the session (-x, --maxfail); hand out no more work. */
export interface StopWork {
  type: "stopWork";
  reason: string;
}

// CONCURRENT_TEST_CONFIG["race"]: the keys the Python race-condition simulation reads, checked.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseSettingsConfig } from "../src/config/settings-config.ts";
import { ConfigError } from "../src/core/errors.ts";

test("race: every documented key is accepted", () => {
  const race = {
    enabled: true,
    seed: 7,
    probability: 0.5,
    max_delay: 0.02,
    include_paths: ["^/api/"],
    exclude_paths: ["^/admin/"],
    only_in_race: false,
  };
  assert.deepEqual(parseSettingsConfig({ race }).race, race);
  assert.deepEqual(parseSettingsConfig({ race: {} }).race, {});
});

test("race: an unknown key is named with the race keys, not the top-level ones", () => {
  assert.throws(
    () => parseSettingsConfig({ race: { max_delay_ms: 20 } }),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.message ===
        'CONCURRENT_TEST_CONFIG["race"]: unknown key "max_delay_ms" (known keys: enabled, seed, probability, max_delay, include_paths, exclude_paths, only_in_race)',
  );
});

test("race: out-of-range and mistyped values are configuration errors", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ probability: 1.5 }, /\["race"\]\["probability"\] must be <= 1/],
    [{ probability: -0.1 }, /\["race"\]\["probability"\] must be >= 0/],
    [{ max_delay: 60 }, /\["race"\]\["max_delay"\] must be <= 10/],
    [{ seed: 1.5 }, /\["race"\]\["seed"\] must be integer/],
    [{ seed: -1 }, /\["race"\]\["seed"\] must be >= 0/],
    [{ include_paths: "^/api/" }, /\["race"\]\["include_paths"\] must be array/],
    [{ exclude_paths: [""] }, /\["race"\]\["exclude_paths"\]\["0"\] must NOT have fewer than 1 characters/],
    [{ enabled: "yes" }, /\["race"\]\["enabled"\] must be boolean/],
  ];
  for (const [race, message] of cases) {
    assert.throws(
      () => parseSettingsConfig({ race }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, message);
        return true;
      },
    );
  }
  assert.throws(() => parseSettingsConfig({ race: [] }), /\["race"\] must be object/);
});

test("top-level unknown keys still list the top-level keys", () => {
  assert.throws(() => parseSettingsConfig({ racing: {} }), /unknown key "racing" \(known keys: enabled, workers, /);
});

// The supervision and scheduling settings: --timeout, crash_retries, progress and order knobs.
import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveConfig } from "../src/config/resolve.ts";
import { ConfigError } from "../src/core/errors.ts";

const base = { labels: [], cpuCount: 2 };

test("timeout: 300 s by default; settings < environment < --timeout; fractions allowed", () => {
  assert.equal(resolveConfig({ ...base, cli: {}, env: {}, settingsConfig: null }).timeout, 300);
  const settingsConfig = { timeout: 120 };
  assert.equal(resolveConfig({ ...base, cli: {}, env: {}, settingsConfig }).timeout, 120);
  const env = { DJANGO_TEST_TIMEOUT: "60" };
  assert.equal(resolveConfig({ ...base, cli: {}, env, settingsConfig }).timeout, 60);
  assert.equal(resolveConfig({ ...base, cli: { timeout: 2.5 }, env, settingsConfig }).timeout, 2.5);
});

test("timeout: zero, negative or not a number is one clear error", () => {
  for (const timeout of [0, -1, Number.NaN]) {
    assert.throws(
      () =>
        resolveConfig({
          ...base,
          cli: { timeout },
          env: {},
          settingsConfig: null,
        }),
      ConfigError,
    );
  }
  assert.throws(
    () =>
      resolveConfig({
        ...base,
        cli: {},
        env: { DJANGO_TEST_TIMEOUT: "soon" },
        settingsConfig: null,
      }),
    /DJANGO_TEST_TIMEOUT must be a finite number of seconds above 0/,
  );
  assert.throws(
    () =>
      resolveConfig({
        ...base,
        cli: {},
        env: {},
        settingsConfig: { timeout: 0 },
      }),
    ConfigError,
  );
});

test("crash_retries: 1 by default, 0 turns retries off, negative is refused", () => {
  assert.equal(resolveConfig({ ...base, cli: {}, env: {}, settingsConfig: null }).crashRetries, 1);
  assert.equal(
    resolveConfig({
      ...base,
      cli: {},
      env: {},
      settingsConfig: { crash_retries: 0 },
    }).crashRetries,
    0,
  );
  assert.throws(
    () =>
      resolveConfig({
        ...base,
        cli: {},
        env: {},
        settingsConfig: { crash_retries: -1 },
      }),
    ConfigError,
  );
});

test("more workers than CPUs is allowed", () => {
  assert.equal(
    resolveConfig({
      ...base,
      cli: { workers: 8 },
      env: {},
      settingsConfig: null,
    }).workers,
    8,
  );
});

test("progress and order knobs", () => {
  const c = resolveConfig({ ...base, cli: {}, env: {}, settingsConfig: null });
  assert.equal(c.progress, "auto");
  assert.equal(c.progressInterval, 30);
  assert.equal(c.order, "expected");
  const env = {
    DJANGO_CONCURRENT_TEST_PROGRESS: "Plain",
    DJANGO_CONCURRENT_TEST_PROGRESS_INTERVAL: "5",
    DJANGO_CONCURRENT_TEST_ORDER: "discovery",
  };
  const d = resolveConfig({ ...base, cli: {}, env, settingsConfig: null });
  assert.equal(d.progress, "plain");
  assert.equal(d.progressInterval, 5);
  assert.equal(d.order, "discovery");
  assert.throws(
    () =>
      resolveConfig({
        ...base,
        cli: {},
        env: { DJANGO_CONCURRENT_TEST_PROGRESS: "loud" },
        settingsConfig: null,
      }),
    /DJANGO_CONCURRENT_TEST_PROGRESS must be one of auto, live, plain, off/,
  );
});

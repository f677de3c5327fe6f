// Configuration precedence: command line > environment > CONCURRENT_TEST_CONFIG > defaults.
import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveConfig } from "../src/config/resolve.ts";
import { ConfigError } from "../src/core/errors.ts";

const base = { labels: [], cpuCount: 8 };

test("workers: default is the CPU count", () => {
  const c = resolveConfig({ ...base, cli: {}, env: {}, settingsConfig: null });
  assert.equal(c.workers, 8);
  assert.equal(c.workersSource, "default");
});

test("workers: settings < environment < command line", () => {
  const settingsConfig = { workers: 3 };
  assert.equal(resolveConfig({ ...base, cli: {}, env: {}, settingsConfig }).workers, 3);
  const env = { DJANGO_TEST_WORKERS: "5" };
  assert.equal(resolveConfig({ ...base, cli: {}, env, settingsConfig }).workers, 5);
  const c = resolveConfig({
    ...base,
    cli: { workers: 2 },
    env,
    settingsConfig,
  });
  assert.deepEqual([c.workers, c.workersSource], [2, "command line"]);
});

test("Django's --parallel N and auto count as a worker count", () => {
  assert.equal(
    resolveConfig({
      ...base,
      cli: { parallel: 6 },
      env: {},
      settingsConfig: null,
    }).workers,
    6,
  );
  assert.equal(
    resolveConfig({
      ...base,
      cli: { parallel: "auto" },
      env: {},
      settingsConfig: null,
    }).workers,
    8,
  );
});

test("bad worker counts are configuration errors naming their source", () => {
  for (const [env, cli, source] of [
    [{ DJANGO_TEST_WORKERS: "many" }, {}, "DJANGO_TEST_WORKERS"],
    [{ DJANGO_TEST_WORKERS: "0" }, {}, "DJANGO_TEST_WORKERS"],
    [{}, { workers: 0 }, "--workers"],
  ] as const) {
    assert.throws(
      () => resolveConfig({ ...base, cli, env, settingsConfig: null }),
      (e: unknown) => e instanceof ConfigError && e.message.startsWith(source),
    );
  }
});

test("CONCURRENT_TEST_CONFIG: unknown keys and wrong types are refused", () => {
  assert.throws(
    () =>
      resolveConfig({
        ...base,
        cli: {},
        env: {},
        settingsConfig: { wrokers: 2 },
      }),
    /unknown key "wrokers"/,
  );
  assert.throws(
    () =>
      resolveConfig({
        ...base,
        cli: {},
        env: {},
        settingsConfig: { workers: "2" },
      }),
    /\["workers"\] must be integer/,
  );
  assert.throws(() => resolveConfig({ ...base, cli: {}, env: {}, settingsConfig: [] }), /CONCURRENT_TEST_CONFIG/);
});

test("opt-in comes from the environment first, then settings", () => {
  const on = resolveConfig({
    ...base,
    cli: {},
    env: { DJANGO_ENABLE_CONCURRENT: "Yes" },
    settingsConfig: null,
  });
  assert.equal(on.enabled, true);
  const offByEnv = resolveConfig({
    ...base,
    cli: {},
    env: { DJANGO_ENABLE_CONCURRENT: "0" },
    settingsConfig: { enabled: true },
  });
  assert.equal(offByEnv.enabled, false);
  const bySettings = resolveConfig({
    ...base,
    cli: {},
    env: {},
    settingsConfig: { enabled: true },
  });
  assert.equal(bySettings.enabled, true);
});

test("junit_xml and benchmark: command line over settings", () => {
  const c = resolveConfig({
    ...base,
    cli: { junitxml: "cli.xml" },
    env: {},
    settingsConfig: { junit_xml: "s.xml", benchmark: true },
  });
  assert.equal(c.junitXml, "cli.xml");
  assert.equal(c.benchmark, true);
});

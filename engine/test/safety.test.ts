// The safety gate's pure checks: opt-in, DEBUG, host guard, production/test patterns and name
// sanitization. The real refusals (with real servers) are in tests/test_safety.py.
import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveConfig } from "../src/config/resolve.ts";
import { ConfigError, SecurityException } from "../src/core/errors.ts";
import type { DatabaseSettings, ProjectSettings } from "../src/protocol/messages.ts";
import { runSafetyGate } from "../src/safety/gate.ts";
import { checkHosts, isLocalHost } from "../src/safety/hosts.ts";
import { shown, unsafeNameReason } from "../src/safety/identifiers.ts";
import { assertTestDatabaseName, looksLikeProduction, namePolicy } from "../src/safety/names.ts";
import { plannedNames } from "../src/safety/planned-names.ts";
import { grantCovers } from "../src/databases/mysql.ts";

const OPT_IN = { DJANGO_ENABLE_CONCURRENT: "1", NO_TELEMETRY: "1" };

function db(overrides: Partial<DatabaseSettings> = {}, test: Partial<DatabaseSettings["test"]> = {}): DatabaseSettings {
  return {
    engine: "django.db.backends.postgresql",
    name: "shop",
    user: "postgres",
    password: null,
    host: "127.0.0.1",
    port: "5432",
    vendor: "postgresql",
    ...overrides,
    test: {
      name: null,
      mirror: null,
      dependencies: null,
      charset: null,
      collation: null,
      template: null,
      ...test,
    },
  };
}

function project(databases: Record<string, DatabaseSettings>, debug = true): ProjectSettings {
  return {
    debug,
    settingsModule: "shop.settings",
    installedApps: [],
    databases,
    concurrentTestConfig: null,
  };
}

function gate(settings: ProjectSettings, env: NodeJS.ProcessEnv = OPT_IN, settingsConfig: unknown = null, workers = 4) {
  const config = resolveConfig({
    cli: { workers },
    labels: [],
    env,
    settingsConfig,
  });
  return runSafetyGate(config, settings, env);
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof SecurityException || error instanceof ConfigError, String(error));
    assert.ok(!error.message.includes("\n"), "a refusal is one line");
    return error.message;
  }
  assert.fail("expected a refusal");
}

test("a development project passes the gate", () => {
  assert.doesNotThrow(() => gate(project({ default: db() })));
  assert.doesNotThrow(() => gate(project({ default: db({ host: "" }) })));
  assert.doesNotThrow(() => gate(project({ default: db({ host: "/var/run/postgresql" }) })));
});

test("opt-in: DJANGO_ENABLE_CONCURRENT accepts 1/true/yes in any case and the settings key", () => {
  for (const value of ["1", "true", "TRUE", "Yes"]) {
    assert.doesNotThrow(() =>
      gate(project({ default: db() }), {
        ...OPT_IN,
        DJANGO_ENABLE_CONCURRENT: value,
      }),
    );
  }
  assert.doesNotThrow(() => gate(project({ default: db() }), { NO_TELEMETRY: "1" }, { enabled: true }));
  for (const value of ["0", "false", "", "maybe"]) {
    const message = refusal(() =>
      gate(project({ default: db() }), { ...OPT_IN, DJANGO_ENABLE_CONCURRENT: value }, { enabled: true }),
    );
    assert.match(message, /DJANGO_ENABLE_CONCURRENT is ".*" \(it overrides/);
  }
  assert.match(
    refusal(() => gate(project({ default: db() }), { NO_TELEMETRY: "1" })),
    /DJANGO_ENABLE_CONCURRENT is not set/,
  );
});

test("opt-in: NO_TELEMETRY must be exactly 1", () => {
  assert.match(
    refusal(() => gate(project({ default: db() }), { DJANGO_ENABLE_CONCURRENT: "1" })),
    /NO_TELEMETRY is not set/,
  );
  for (const value of ["0", "true", "yes", " 1"]) {
    const message = refusal(() => gate(project({ default: db() }), { ...OPT_IN, NO_TELEMETRY: value }));
    assert.equal(message, `NO_TELEMETRY=1 is required: NO_TELEMETRY is ${JSON.stringify(value)}`);
  }
});

test("DEBUG=False is refused unless allow_debug_false", () => {
  assert.match(
    refusal(() => gate(project({ default: db() }, false))),
    /^settings.DEBUG is False in shop.settings/,
  );
  assert.doesNotThrow(() =>
    gate(project({ default: db() }, false), OPT_IN, {
      allow_debug_false: true,
    }),
  );
});

test("production patterns are case-insensitive, cover NAME, TEST NAME and clones, and cannot be removed", () => {
  const policy = namePolicy();
  for (const name of [
    "prod_shop",
    "PRODUCTION",
    "production_eu",
    "live_shop",
    "staging_x",
    "shop_prod",
    "shop_Production",
    "shop_live",
    "shop_STAGING",
  ]) {
    assert.ok(looksLikeProduction(name, "postgresql", policy), name);
  }
  for (const name of ["test_shop", "product", "shop_products", "delivery", "shop_livestock"]) {
    assert.ok(!looksLikeProduction(name, "postgresql", policy), name);
  }
  assert.ok(looksLikeProduction("/srv/data/prod_shop.sqlite3", "sqlite", policy));
  assert.ok(looksLikeProduction("test_shop_live_3", "postgresql", policy), "a clone of a production-like name");
  assert.equal(
    refusal(() => gate(project({ default: db({ name: "shop_prod" }) }))),
    'production database prohibited: DATABASES["default"] NAME "shop_prod" matches the production pattern /_prod$/',
  );
  assert.match(
    refusal(() => gate(project({ default: db({}, { name: "test_shop_live" }) }))),
    /TEST NAME "test_shop_live" matches the production pattern \/_live\$\//,
  );
  // User patterns add to the built-in ones; an empty list removes nothing.
  assert.match(
    refusal(() =>
      gate(project({ default: db({ name: "prod_shop" }) }), OPT_IN, {
        production_patterns: [],
      }),
    ),
    /\/\^prod_\//,
  );
  assert.match(
    refusal(() =>
      gate(project({ default: db({ name: "shop_eu" }) }), OPT_IN, {
        production_patterns: ["_eu$"],
      }),
    ),
    /NAME "shop_eu" matches the production pattern \/_eu\$\//,
  );
  assert.throws(() => gate(project({ default: db() }), OPT_IN, { production_patterns: ["(["] }), ConfigError);
});

test("created names must look like test databases; user test patterns extend the list", () => {
  const settings = project({ default: db({}, { name: "shop_tests" }) });
  assert.equal(
    refusal(() => gate(settings)),
    'DATABASES["default"] TEST NAME "shop_tests" matches no test database pattern',
  );
  assert.doesNotThrow(() => gate(settings, OPT_IN, { test_patterns: ["_tests$"] }));
  // The engine's own clone suffix keeps a *_test name a test name.
  assert.doesNotThrow(() => assertTestDatabaseName("shop_test_12", "postgresql", namePolicy()));
  assert.throws(() => assertTestDatabaseName("shop_12", "postgresql", namePolicy()), SecurityException);
});

test("sanitization refuses hostile characters and over-long names, naming the character", () => {
  const cases: [string, RegExp][] = [
    ['test_a"b', /a double quote \(U\+0022\) at position 7/],
    ["test_a'b", /a single quote/],
    ["test_a;b", /a semicolon/],
    ["test_a`b", /a backtick/],
    ["test_a\\b", /a backslash/],
    ["test_a b", /a space/],
    ["test_a\0b", /a NUL byte \(U\+0000\) at position 7/],
    ["test_a\nb", /a control character \(U\+000A\)/],
    ["test_a\u007fb", /a control character \(U\+007F\)/],
    ["t\u0435st_shop", /non-ASCII character U\+0435 \(a possible look-alike\) at position 2/],
    ["test_shop\u200b", /non-ASCII character U\+200B/],
    ["test_shop\uff1b", /non-ASCII character U\+FF1B/],
    ["-test_shop", /starts with "-"/],
    ["", /it is empty/],
    ["test_" + "x".repeat(59), /it is 64 bytes long; PostgreSQL allows 63/],
  ];
  for (const [name, reason] of cases) assert.match(unsafeNameReason(name, "postgresql") ?? "", reason, shown(name));
  assert.equal(unsafeNameReason("test_" + "x".repeat(58), "postgresql"), null);
  assert.equal(unsafeNameReason("test_" + "x".repeat(59), "mysql"), null);
  assert.match(
    unsafeNameReason("test_" + "x".repeat(60), "mysql") ?? "",
    /65 characters long; MySQL\/MariaDB allows 64/,
  );
  assert.equal(unsafeNameReason("/home/ana/My Projects/test_shop.sqlite3", "sqlite"), null);
  assert.match(unsafeNameReason("/tmp/test_a'b.sqlite3", "sqlite") ?? "", /file name contains a single quote/);
  assert.match(unsafeNameReason("/tmp/test_a\0.sqlite3", "sqlite") ?? "", /NUL byte/);
  // Messages stay on one readable line.
  assert.equal(shown("a\0b\u200bc\n"), '"a\\u0000b\\u{200b}c\\n"');
});

test("the length limit includes the clone suffix of the highest worker", () => {
  // Templates are <test name>_<hash>, shortened to leave room for "_999"; more slots overflow.
  const name = "test_" + "x".repeat(57); // 62 bytes, the template base is cut to 48
  const base = name.slice(0, 48);
  assert.doesNotThrow(() => gate(project({ default: db({}, { name }) }), OPT_IN, null, 999));
  assert.equal(
    refusal(() => gate(project({ default: db({}, { name }) }), OPT_IN, null, 1000)),
    `unsafe database name "${base}_<hash>_1000" (DATABASES["default"] clone for worker 1000): it is 64 bytes long; PostgreSQL allows 63`,
  );
  const maria = db({ vendor: "mysql", engine: "django.db.backends.mysql" }, { name: name + "yy" });
  assert.doesNotThrow(() => gate(project({ default: maria }), OPT_IN, null, 999));
  assert.match(
    refusal(() => gate(project({ default: maria }), OPT_IN, null, 1000)),
    /it is 65 characters long; MySQL\/MariaDB allows 64/,
  );
});

test("planned names: Django's test name, one clone per worker, none for mirrors, a template file for in-memory SQLite", () => {
  const settings = project({
    default: db(),
    replica: db({}, { mirror: "default" }),
    cache: db({
      engine: "django.db.backends.sqlite3",
      vendor: "sqlite",
      name: "/srv/cache.sqlite3",
      host: null,
    }),
  });
  const names = plannedNames(settings, 2).map((p) => `${p.where}=${p.display ?? p.name}`);
  assert.deepEqual(names, [
    'DATABASES["default"] NAME=shop',
    'DATABASES["default"] test database name=test_shop',
    'DATABASES["default"] clone for worker 1=test_shop_<hash>_1',
    'DATABASES["default"] clone for worker 2=test_shop_<hash>_2',
    'DATABASES["replica"] NAME=shop',
    'DATABASES["cache"] NAME=/srv/cache.sqlite3',
    'DATABASES["cache"] template file=/test_cache_<hash>.sqlite3',
  ]);
});

test("host guard: loopback and unix sockets pass, anything else needs allowed_hosts", () => {
  for (const host of [
    "",
    "localhost",
    "LOCALHOST",
    "127.0.0.1",
    "127.8.9.10",
    "::1",
    "[::1]",
    "0:0:0:0:0:0:0:1",
    "::ffff:127.0.0.1",
    "/var/run/postgresql",
  ]) {
    assert.ok(isLocalHost(host), host);
  }
  for (const host of [
    "db.example.com",
    "10.0.0.5",
    "0.0.0.0",
    "::",
    "::ffff:8.8.8.8",
    "localhost.evil.com",
    "127.0.0.1.nip.io",
    "127.1",
    " 127.0.0.1",
    "127.0.0.1\n",
  ]) {
    assert.ok(!isLocalHost(host), host);
  }
  const remote = project({ default: db({ host: "db.example.com" }) });
  assert.equal(
    refusal(() => checkHosts(remote, [], {})),
    'database host "db.example.com" from DATABASES["default"] HOST is not local (loopback or unix socket); refusing to connect',
  );
  assert.doesNotThrow(() => checkHosts(remote, ["DB.example.com"], {}));
  assert.match(
    refusal(() => checkHosts(project({ default: db({ host: "127.0.0.1,10.1.1.1" }) }), [], {})),
    /"10.1.1.1"/,
  );
  assert.match(
    refusal(() =>
      checkHosts(project({ default: db({ host: "" }) }), [], {
        PGHOST: "10.2.2.2",
      }),
    ),
    /from PGHOST \(used because DATABASES\["default"\] HOST is empty\)/,
  );
  assert.match(
    refusal(() => checkHosts(project({ default: db() }), [], { PGHOSTADDR: "10.3.3.3" })),
    /from PGHOSTADDR/,
  );
  const maria = db({
    vendor: "mysql",
    engine: "django.db.backends.mysql",
    host: "",
  });
  assert.match(
    refusal(() => checkHosts(project({ default: maria }), [], { MYSQL_HOST: "10.4.4.4" })),
    /from MYSQL_HOST/,
  );
  assert.doesNotThrow(() => checkHosts(project({ default: maria }), [], {}));
});

test("the gate's order: opt-in, DEBUG, hosts, then names", () => {
  const everythingWrong = project({ default: db({ name: "prod_shop", host: "db.example.com" }) }, false);
  assert.match(
    refusal(() => gate(everythingWrong, { NO_TELEMETRY: "1" })),
    /DJANGO_ENABLE_CONCURRENT/,
  );
  assert.match(
    refusal(() => gate(everythingWrong)),
    /DEBUG is False/,
  );
  assert.match(
    refusal(() => gate(everythingWrong, OPT_IN, { allow_debug_false: true })),
    /host "db.example.com"/,
  );
  assert.match(
    refusal(() =>
      gate(everythingWrong, OPT_IN, {
        allow_debug_false: true,
        allowed_hosts: ["db.example.com"],
      }),
    ),
    /production database prohibited/,
  );
});

test("a production database is never the TEST TEMPLATE a test database is copied from", () => {
  assert.equal(
    refusal(() => gate(project({ default: db({}, { template: "shop_live" }) }))),
    'production database prohibited: DATABASES["default"] TEST TEMPLATE "shop_live" matches the production pattern /_live$/',
  );
  assert.doesNotThrow(() => gate(project({ default: db({}, { template: "template_postgis" }) })));
});

test("MySQL schema grant patterns: % and _ are wildcards unless escaped", () => {
  assert.ok(grantCovers("test\\_%", "test_shop_1"));
  assert.ok(!grantCovers("test\\_%", "testXshop"));
  assert.ok(grantCovers("test_%", "testXshop"));
  assert.ok(grantCovers("shop", "SHOP"));
  assert.ok(!grantCovers("shop", "shop_1"));
  assert.ok(grantCovers("%", "anything"));
  assert.ok(!grantCovers("te.t%", "test_shop"), "a dot is literal");
});

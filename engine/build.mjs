// Bundles the engine into one ESM file shipped inside the Python package, with its sha256 beside
// it (the adapter refuses a damaged bundle) and the package version injected (one source of truth:
// python/django_concurrent_test/__init__.py).
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const PACKAGE = new URL("../python/django_concurrent_test/", import.meta.url);
const OUTFILE = new URL("_engine/cli.mjs", PACKAGE);

function packageVersion() {
  const init = readFileSync(new URL("__init__.py", PACKAGE), "utf8");
  const match = /^__version__ = "([^"]+)"$/m.exec(init);
  if (!match) throw new Error('no __version__ = "..." line in django_concurrent_test/__init__.py');
  return match[1];
}

await build({
  entryPoints: ["src/cli.ts"],
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  outfile: fileURLToPath(OUTFILE),
  // pg's optional native binding is never used; CommonJS deps need a require shim in ESM.
  external: ["pg-native"],
  define: { __DCT_VERSION__: JSON.stringify(packageVersion()) },
  banner: {
    js: "import { createRequire as __dctRequire } from 'node:module'; const require = __dctRequire(import.meta.url);",
  },
  logLevel: "warning",
});

// sha256sum's format, so `sha256sum -c cli.mjs.sha256` checks it too.
const digest = createHash("sha256").update(readFileSync(OUTFILE)).digest("hex");
writeFileSync(new URL("cli.mjs.sha256", OUTFILE), `${digest}  cli.mjs\n`);

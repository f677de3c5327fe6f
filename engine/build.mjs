// Bundles the engine into one ESM file shipped inside the Python package, so that
// `pip install django-concurrent-test` plus Node on PATH is all a user needs.
import { build } from "esbuild";

await build({
  entryPoints: ["src/cli.ts"],
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  outfile: "../python/django_concurrent_test/_engine/cli.mjs",
  // pg's optional native binding is never used; CommonJS deps need a require shim in ESM.
  external: ["pg-native"],
  banner: {
    js: "import { createRequire as __dctRequire } from 'node:module'; const require = __dctRequire(import.meta.url);",
  },
  logLevel: "warning",
});

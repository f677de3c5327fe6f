// The engine's layers: every import in engine/src goes to its own folder or a lower one, and no
// chain of imports leads back to where it started. The order, lowest first:
//
//   core        errors and the version, imported by everything
//   protocol    the messages and the channel (the wire format)
//   bridge      the engine's client of the Python bridge: only protocol below it
//   config      the run's configuration
//   safety      the gate and the name rules, before anything is connected to
//   databases   backends, templates, clones, the cache's names and records
//   scheduling  the queue, timings, shards
//   results     RunResults: fed by workers, read by reporters
//   workers     the pool
//   reporters   everything a run writes or prints
//   commands    run, cleanup, merge-reports
//   cli         cli.ts, the bundle's entry point
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const SRC = fileURLToPath(new URL("../src/", import.meta.url));

const LAYERS = [
  "core",
  "protocol",
  "bridge",
  "config",
  "safety",
  "databases",
  "scheduling",
  "results",
  "workers",
  "reporters",
  "commands",
  "cli",
];

/** Imports against the order, each with the reason it is allowed. Keep this list short. */
const EXCEPTIONS: { from: string; to: string; why: string }[] = [
  {
    from: "safety/planned-names.ts",
    to: "databases/naming.ts",
    why:
      "the gate must judge exactly the names the databases stage will create, before anything is " +
      "connected to; naming.ts is pure string functions with no imports of its own",
  },
];

type Graph = Map<string, string[]>;

/** Relative import and export-from specifiers of one source text (static and dynamic). */
function specifiers(text: string): string[] {
  const found: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gm,
    /^\s*import\s*["']([^"']+)["']/gm,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of text.matchAll(pattern)) found.push(match[1]!);
  return found.filter((s) => s.startsWith("."));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

/** File -> the files it imports, as paths relative to src/. */
function importGraph(): Graph {
  const graph: Graph = new Map();
  for (const file of sourceFiles(SRC)) {
    const from = path.relative(SRC, file);
    const targets = specifiers(readFileSync(file, "utf8")).map((s) =>
      path.relative(SRC, path.resolve(path.dirname(file), s)),
    );
    graph.set(from, [...new Set(targets)]);
  }
  return graph;
}

/** The layer of a file: its folder under src/, or "cli" for cli.ts. */
function layerOf(file: string): string {
  return file === "cli.ts" ? "cli" : file.includes("/") ? file.split("/")[0]! : `(top level) ${file}`;
}

/** Every import that goes to a higher layer, or from or to a folder the order does not know. */
function layerViolations(graph: Graph, layers = LAYERS, exceptions = EXCEPTIONS): string[] {
  const rank = (file: string): number => layers.indexOf(layerOf(file));
  const problems: string[] = [];
  for (const [from, targets] of graph) {
    if (rank(from) < 0) problems.push(`${from} is in no layer (${layers.join(" < ")})`);
    for (const to of targets) {
      if (rank(to) < 0 || rank(from) < 0 || rank(to) <= rank(from)) {
        if (rank(to) < 0 && graph.has(to)) problems.push(`${from} imports ${to}, which is in no layer`);
        continue;
      }
      if (exceptions.some((e) => e.from === from && e.to === to)) continue;
      problems.push(`${from} (${layerOf(from)}) imports ${to} (${layerOf(to)}), a higher layer`);
    }
  }
  return problems;
}

/** Each import cycle once, as the files along it (Tarjan's strongly connected components). */
function importCycles(graph: Graph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node)!, index.get(to)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    const selfImport = graph.get(node)?.includes(node) ?? false;
    if (component.length > 1 || selfImport) cycles.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return cycles;
}

test("every import in engine/src goes to its own layer or a lower one", () => {
  assert.deepEqual(layerViolations(importGraph()), []);
});

test("engine/src has no import cycle", () => {
  assert.deepEqual(importCycles(importGraph()), []);
});

test("every exception to the layer order is still an import, with a reason", () => {
  const graph = importGraph();
  for (const e of EXCEPTIONS) {
    assert.ok(graph.get(e.from)?.includes(e.to), `${e.from} no longer imports ${e.to}: drop the exception`);
    assert.ok(e.why.length > 20, `say why ${e.from} may import ${e.to}`);
  }
});

test("the checks find an upward import, a file outside the layers, and cycles", () => {
  const graph: Graph = new Map([
    ["config/resolve.ts", ["core/errors.ts", "scheduling/sharding.ts"]],
    ["scheduling/sharding.ts", ["config/resolve.ts"]],
    ["core/errors.ts", []],
    ["helpers.ts", ["core/errors.ts"]],
    ["safety/gate.ts", ["safety/gate.ts"]],
  ]);
  assert.deepEqual(layerViolations(graph), [
    "config/resolve.ts (config) imports scheduling/sharding.ts (scheduling), a higher layer",
    "helpers.ts is in no layer (" + LAYERS.join(" < ") + ")",
  ]);
  assert.deepEqual(importCycles(graph), [["config/resolve.ts", "scheduling/sharding.ts"], ["safety/gate.ts"]]);
  assert.deepEqual(
    specifiers(
      'import type {\n  A,\n} from "../a.ts";\nexport { b } from "./b.ts";\nimport "./c.ts";\nimport x from "pg";',
    ),
    ["../a.ts", "./b.ts", "./c.ts"],
  );
});

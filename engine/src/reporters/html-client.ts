// The HTML report's stylesheet and script, inlined into the one file the report is (no external
// requests: the page's Content-Security-Policy forbids them). The script reads the embedded
// report data (report-data.ts) and draws the summary, the worker timeline and the results.
// It is plain ES2017 in a String.raw template: it must contain no backtick and no "${".

export const REPORT_CSS = String.raw`
:root { --ok:#2e7d32; --fail:#c62828; --err:#8e24aa; --skip:#757575; --xf:#00838f; --us:#ef6c00;
  --bg:#fafafa; --fg:#212121; --muted:#616161; --line:#e0e0e0; --phase:#eceff1; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--fg); background:var(--bg); }
header { padding:16px 24px; background:#263238; color:#fff; }
header h1 { margin:0 0 4px; font-size:20px; font-weight:600; }
header .meta { color:#cfd8dc; font-size:12px; }
main { padding:16px 24px 48px; max-width:1400px; }
section { margin:0 0 28px; }
h2 { font-size:16px; margin:0 0 10px; }
.cards { display:flex; flex-wrap:wrap; gap:10px; }
.card { background:#fff; border:1px solid var(--line); border-radius:6px; padding:8px 14px; min-width:110px; }
.card b { display:block; font-size:20px; }
.card span { color:var(--muted); font-size:12px; }
.card.bad b { color:var(--fail); }
.card.good b { color:var(--ok); }
.timeline { background:#fff; border:1px solid var(--line); border-radius:6px; padding:8px; overflow-x:auto; }
.timeline svg { display:block; }
.timeline .bar { cursor:pointer; }
.timeline .bar:hover { stroke:#000; stroke-width:1; }
.legend { display:flex; flex-wrap:wrap; gap:14px; margin-top:6px; font-size:12px; color:var(--muted); }
.legend i { display:inline-block; width:12px; height:12px; border-radius:2px; vertical-align:-2px; margin-right:4px; }
table { border-collapse:collapse; width:100%; background:#fff; border:1px solid var(--line); }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:#f5f5f5; font-weight:600; font-size:12px; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
.badge { display:inline-block; padding:0 6px; border-radius:3px; color:#fff; font-size:12px; white-space:nowrap; }
.o-success { background:var(--ok); } .o-failure { background:var(--fail); } .o-error { background:var(--err); }
.o-skip { background:var(--skip); } .o-expectedFailure { background:var(--xf); } .o-unexpectedSuccess { background:var(--us); }
.controls { display:flex; flex-wrap:wrap; gap:8px; align-items:center; margin-bottom:8px; }
.controls label { background:#fff; border:1px solid var(--line); border-radius:14px; padding:2px 10px; cursor:pointer; user-select:none; }
.controls input[type=search] { flex:1; min-width:220px; padding:5px 8px; border:1px solid #bdbdbd; border-radius:4px; font:inherit; }
.controls .count { color:var(--muted); font-size:12px; }
.controls button { font:inherit; padding:3px 10px; }
pre { margin:6px 0 0; padding:8px; background:#263238; color:#eceff1; border-radius:4px; overflow-x:auto; font-size:12px; white-space:pre-wrap; word-break:break-word; }
pre.out { background:#37474f; }
details summary { cursor:pointer; }
.muted { color:var(--muted); }
.hidden { display:none; }
`;

export const REPORT_JS = String.raw`
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("dct-report-data").textContent);
  var SVGNS = "http://www.w3.org/2000/svg";
  var OUTCOMES = ["success", "failure", "error", "skip", "expectedFailure", "unexpectedSuccess"];
  var LABELS = { success: "passed", failure: "failed", error: "error", skip: "skipped",
    expectedFailure: "expected failure", unexpectedSuccess: "unexpected success" };
  var COLORS = { success: "#2e7d32", failure: "#c62828", error: "#8e24aa", skip: "#757575",
    expectedFailure: "#00838f", unexpectedSuccess: "#ef6c00" };
  var PHASE_COLORS = { discovery: "#eceff1", template: "#cfd8dc", clones: "#b0bec5", workerStart: "#ffe0b2", teardown: "#d7ccc8" };
  var PHASE_NAMES = { discovery: "discovery", template: "template", clones: "clones", workerStart: "worker start", teardown: "teardown" };

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var k in attrs || {}) node.setAttribute(k, attrs[k]);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function svg(tag, attrs) {
    var node = document.createElementNS(SVGNS, tag);
    for (var k in attrs) node.setAttribute(k, attrs[k]);
    return node;
  }
  function secs(s) { return s < 1 ? Math.round(s * 1000) + " ms" : s < 10 ? s.toFixed(2) + "s" : s.toFixed(1) + "s"; }
  function runName(run) {
    return data.runs.length > 1 && run.shard ? "shard " + run.shard.index + "/" + run.shard.total
      : data.runs.length > 1 ? run.hostname : "";
  }

  // One row per test outcome group: a test, or a failing subtest of it.
  var rows = [];
  var totals = { success: 0, failure: 0, error: 0, skip: 0, expectedFailure: 0, unexpectedSuccess: 0 };
  var testsRun = 0, wall = 0, workers = 0, busy = 0, capacity = 0;
  data.runs.forEach(function (run, r) {
    testsRun += run.testsRun;
    wall = Math.max(wall, run.wallSeconds);
    workers += run.workers;
    OUTCOMES.forEach(function (o) { totals[o] += run.counts[o] || 0; });
    var tp = run.phases.tests;
    if (tp) capacity += run.workers * (tp.end - tp.start);
    run.classes.forEach(function (c) {
      if (c.end !== null) busy += c.end - c.start;
      c.tests.forEach(function (t) {
        var groups = {};
        var order = [];
        t.outcomes.forEach(function (o) {
          if (!groups[o.test]) { groups[o.test] = []; order.push(o.test); }
          groups[o.test].push(o);
        });
        if (order.length === 0) order.push(t.id), groups[t.id] = [];
        order.forEach(function (id) {
          var outs = groups[id];
          var worst = "success";
          ["skip", "expectedFailure", "unexpectedSuccess", "failure", "error"].forEach(function (o) {
            if (outs.some(function (x) { return x.outcome === o; })) worst = o;
          });
          if (outs.length === 0) worst = "error";
          rows.push({ run: r, cls: c, test: t, id: id, outcome: worst, outcomes: outs,
            name: id === t.id ? t.name : t.name + id.slice(t.id.length) });
        });
      });
    });
  });

  // Summary cards.
  var failed = totals.failure + totals.error + totals.unexpectedSuccess;
  var cards = document.getElementById("cards");
  function card(value, label, cls) {
    var c = el("div", { "class": "card" + (cls ? " " + cls : "") });
    c.appendChild(el("b", {}, String(value)));
    c.appendChild(el("span", {}, label));
    cards.appendChild(c);
  }
  card(testsRun, "tests run", failed ? "bad" : "good");
  card(totals.success, "passed");
  card(totals.failure, "failures", totals.failure ? "bad" : "");
  card(totals.error, "errors", totals.error ? "bad" : "");
  card(totals.skip, "skipped");
  card(totals.expectedFailure, "expected failures");
  card(totals.unexpectedSuccess, "unexpected successes", totals.unexpectedSuccess ? "bad" : "");
  card(secs(wall), data.runs.length > 1 ? "longest shard" : "wall time");
  card(workers, data.runs.length > 1 ? "workers (all shards)" : "workers");
  card(capacity > 0 ? Math.round(100 * Math.min(1, busy / capacity)) + "%" : "n/a", "worker utilization");
  var meta = document.getElementById("meta");
  meta.textContent = "Generated " + data.generatedAt + " · " + data.runs.map(function (run) {
    return (runName(run) ? runName(run) + ": " : "") + run.hostname + ", started " + run.startedAt;
  }).join(" · ");

  // Worker timeline: one row per worker slot of each run; setup phases shaded behind the rows.
  var tl = document.getElementById("timeline");
  var lanes = [];
  data.runs.forEach(function (run, r) {
    var slots = {};
    for (var s = 1; s <= run.workers; s++) slots[s] = true;
    run.classes.forEach(function (c) { if (c.slot > 0) slots[c.slot] = true; });
    Object.keys(slots).map(Number).sort(function (a, b) { return a - b; }).forEach(function (slot) {
      lanes.push({ run: run, r: r, slot: slot });
    });
  });
  var labelW = data.runs.length > 1 ? 230 : 150, rowH = 26, top = 22, width = Math.max(700, tl.clientWidth - 20);
  var plotW = width - labelW - 60;
  var span = Math.max(wall, 0.001);
  function x(t) { return labelW + (t / span) * plotW; }
  var height = top + lanes.length * rowH + 8;
  var root = svg("svg", { width: width, height: height, role: "img", "aria-label": "worker timeline" });
  var step = [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600].filter(function (s) {
    return span / s <= 10;
  })[0] || span / 10;
  for (var t = 0; t <= span + 1e-9; t += step) {
    root.appendChild(svg("line", { x1: x(t), x2: x(t), y1: top - 4, y2: height - 8, stroke: "#eeeeee" }));
    var tick = svg("text", { x: x(t), y: 12, "font-size": 10, "text-anchor": "middle", fill: "#757575" });
    tick.textContent = secs(t);
    root.appendChild(tick);
  }
  lanes.forEach(function (lane, li) {
    var y = top + li * rowH;
    var run = lane.run;
    var g = svg("g", { "class": "tl-row", "data-slot": lane.slot, "data-run": lane.r });
    var busyLane = 0;
    run.classes.forEach(function (c) { if (c.slot === lane.slot && c.end !== null) busyLane += c.end - c.start; });
    var tp = run.phases.tests;
    var laneUtil = tp && tp.end > tp.start ? Math.round(100 * Math.min(1, busyLane / (tp.end - tp.start))) + "%" : "";
    var label = svg("text", { x: 4, y: y + 17, "font-size": 12, fill: "#212121" });
    label.textContent = (runName(run) ? runName(run) + " · " : "") + "worker " + lane.slot + (laneUtil ? " · " + laneUtil + " busy" : "");
    g.appendChild(label);
    ["discovery", "template", "clones", "teardown"].forEach(function (name) {
      var p = run.phases[name];
      if (!p || p.end <= p.start) return;
      var rect = svg("rect", { x: x(p.start), y: y + 2, width: Math.max(1, x(p.end) - x(p.start)), height: rowH - 4,
        fill: PHASE_COLORS[name], "class": "phase phase-" + name });
      var title = svg("title", {});
      title.textContent = PHASE_NAMES[name] + ": " + secs(p.end - p.start);
      rect.appendChild(title);
      g.appendChild(rect);
    });
    var ready = run.workerReady[String(lane.slot)];
    if (tp && ready !== undefined && ready > tp.start) {
      var ws = svg("rect", { x: x(tp.start), y: y + 2, width: Math.max(1, x(ready) - x(tp.start)), height: rowH - 4,
        fill: PHASE_COLORS.workerStart, "class": "phase phase-workerStart" });
      var wt = svg("title", {});
      wt.textContent = "worker " + lane.slot + " starting: " + secs(ready - tp.start);
      ws.appendChild(wt);
      g.appendChild(ws);
    }
    run.classes.forEach(function (c) {
      if (c.slot !== lane.slot) return;
      var end = c.end === null ? run.wallSeconds : c.end;
      var bad = c.interrupted || c.tests.some(function (t) {
        return t.outcomes.some(function (o) { return o.outcome === "failure" || o.outcome === "error" || o.outcome === "unexpectedSuccess"; });
      });
      var bar = svg("rect", { x: x(c.start), y: y + 4, width: Math.max(2, x(end) - x(c.start)), height: rowH - 8, rx: 2,
        fill: bad ? "#ef9a9a" : "#a5d6a7", "class": "bar" + (bad ? " bar-failed" : ""), "data-class": c.label });
      var title = svg("title", {});
      title.textContent = c.label + " (" + c.tests.length + " tests, " + secs(end - c.start) + ")" + (c.interrupted ? " — " + c.interrupted : "");
      bar.appendChild(title);
      bar.addEventListener("click", function () { search.value = c.label; apply(); document.getElementById("results").scrollIntoView(); });
      g.appendChild(bar);
      c.tests.forEach(function (t) {
        if (!t.outcomes.some(function (o) { return o.outcome === "failure" || o.outcome === "error" || o.outcome === "unexpectedSuccess"; })) return;
        var mx = Math.min(x(t.start + t.duration), x(end));
        var mark = svg("rect", { x: mx - 1, y: y + 3, width: 3, height: rowH - 6, fill: COLORS.failure, "class": "fail-mark" });
        var mt = svg("title", {});
        mt.textContent = "failed: " + t.id;
        mark.appendChild(mt);
        g.appendChild(mark);
      });
    });
    root.appendChild(g);
  });
  tl.appendChild(root);
  var legend = el("div", { "class": "legend" });
  [["#a5d6a7", "class passed"], ["#ef9a9a", "class with failures"], [COLORS.failure, "failing test"],
   [PHASE_COLORS.template, "template"], [PHASE_COLORS.clones, "clones"], [PHASE_COLORS.workerStart, "worker start"],
   [PHASE_COLORS.teardown, "teardown"]].forEach(function (item) {
    var span = el("span", {});
    var sw = el("i", {});
    sw.style.background = item[0];
    span.appendChild(sw);
    span.appendChild(document.createTextNode(item[1]));
    legend.appendChild(span);
  });
  tl.appendChild(legend);

  // Slowest tests.
  var slowBody = document.querySelector("#slowest tbody");
  var seen = {};
  rows.filter(function (row) { if (seen[row.test.id]) return false; seen[row.test.id] = true; return true; })
    .sort(function (a, b) { return b.test.duration - a.test.duration; }).slice(0, 10).forEach(function (row) {
      var tr = el("tr", {});
      tr.appendChild(el("td", { "class": "num" }, secs(row.test.duration)));
      tr.appendChild(el("td", {}, row.test.id));
      tr.appendChild(el("td", {}, (runName(data.runs[row.run]) ? runName(data.runs[row.run]) + " · " : "") + "worker " + row.cls.slot));
      slowBody.appendChild(tr);
    });

  // Results: filter by outcome, search by text.
  var filters = document.getElementById("filters");
  var search = document.getElementById("search");
  var countEl = document.getElementById("shown");
  var active = {};
  OUTCOMES.forEach(function (o) {
    var n = rows.filter(function (row) { return row.outcome === o; }).length;
    active[o] = true;
    var label = el("label", { "class": "filter" });
    var box = el("input", { type: "checkbox", value: o, "data-outcome": o });
    box.checked = true;
    box.addEventListener("change", function () { active[o] = box.checked; apply(); });
    label.appendChild(box);
    label.appendChild(document.createTextNode(" " + LABELS[o] + " (" + n + ")"));
    filters.appendChild(label);
  });
  var problemsOnly = el("button", { type: "button", id: "only-problems" }, "problems only");
  problemsOnly.addEventListener("click", function () {
    Array.prototype.forEach.call(filters.querySelectorAll("input"), function (box) {
      box.checked = box.value === "failure" || box.value === "error" || box.value === "unexpectedSuccess";
      active[box.value] = box.checked;
    });
    apply();
  });
  filters.appendChild(problemsOnly);
  var tbody = document.querySelector("#results tbody");
  rows.sort(function (a, b) {
    var rank = { error: 0, failure: 1, unexpectedSuccess: 2, skip: 4, expectedFailure: 4, success: 5 };
    return rank[a.outcome] - rank[b.outcome] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  });
  rows.forEach(function (row) {
    var tr = el("tr", { "class": "result", "data-outcome": row.outcome });
    var o = el("td", {});
    o.appendChild(el("span", { "class": "badge o-" + row.outcome }, LABELS[row.outcome]));
    tr.appendChild(o);
    var cell = el("td", {});
    var body = [];
    row.outcomes.forEach(function (x) {
      if (x.traceback) body.push(["", x.traceback]);
      if (x.reason) body.push(["", "Reason: " + x.reason]);
    });
    if (row.id === row.test.id || row.outcomes.length) {
      if (row.test.stdout && row.id === row.test.id) body.push(["out", "Captured stdout:\n" + row.test.stdout]);
      if (row.test.stderr && row.id === row.test.id) body.push(["out", "Captured stderr:\n" + row.test.stderr]);
    }
    if (row.outcome === "unexpectedSuccess") body.push(["", "Marked as an expected failure, but passed."]);
    if (body.length) {
      var det = el("details", {});
      if (row.outcome === "failure" || row.outcome === "error") det.open = false;
      det.appendChild(el("summary", {}, row.name));
      body.forEach(function (b) { det.appendChild(el("pre", { "class": b[0] }, b[1])); });
      cell.appendChild(det);
    } else {
      cell.appendChild(document.createTextNode(row.name));
    }
    tr.appendChild(cell);
    tr.appendChild(el("td", {}, row.cls.label));
    tr.appendChild(el("td", {}, (runName(data.runs[row.run]) ? runName(data.runs[row.run]) + " · " : "") + (row.cls.slot > 0 ? "worker " + row.cls.slot : "not run")));
    tr.appendChild(el("td", { "class": "num" }, secs(row.test.duration)));
    row.text = (row.id + " " + row.cls.label + " " + body.map(function (b) { return b[1]; }).join(" ")).toLowerCase();
    row.tr = tr;
    tbody.appendChild(tr);
  });
  function apply() {
    var q = search.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (row) {
      var visible = active[row.outcome] && (!q || row.text.indexOf(q) >= 0);
      row.tr.classList.toggle("hidden", !visible);
      if (visible) shown++;
    });
    countEl.textContent = shown + " of " + rows.length + " shown";
  }
  search.addEventListener("input", apply);
  apply();
})();
`;

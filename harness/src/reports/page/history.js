// The trace page's history view (harness/src/reports/page.rs inlines it before page.js): the clients'
// operations of a stage 6 run, from the trace file's `history` (harness/src/simulation/service/view.rs).
// One row per client on the time axis (ticks), one bar per operation from its call to its
// return; an operation whose outcome is unknown is open-ended: dashed, fading out to the end.
// The number on a bar is its place in the order the checker found for its key, and the line
// through a key's bars passes through points in that order, one inside each bar (where each
// operation can take effect). When the history is not linearizable, the operations of which
// one must follow the numbered prefix, and none can, are outlined in red.
"use strict";
window.historyView = function (H, lastTick, api) {
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  const OPS = H.operations;
  const BAR = 18, LANE = 22, GUTTER = 46, PAD = 14, AXIS = 20;
  const failing = H.verdict !== "linearizable";

  // ---- The model: rows (one per client, a sub-lane per overlap), keys, the run's span. ----

  let end = lastTick;
  for (const op of OPS) end = Math.max(end, op.returned != null ? op.returned : op.call);
  end += 1;
  const stop = (op) => (op.returned != null ? op.returned : Infinity);
  const clients = [...new Set(OPS.map((op) => op.client))].sort((a, b) => a - b);
  const rowOf = new Map(); // client -> { y, lanes }
  const laneOf = new Array(OPS.length).fill(0);
  let height = AXIS;
  {
    let y = AXIS;
    for (const c of clients) {
      const ends = [];
      const mine = OPS.map((op, i) => i).filter((i) => OPS[i].client === c)
        .sort((a, b) => OPS[a].call - OPS[b].call || a - b);
      for (const i of mine) {
        let lane = ends.findIndex((t) => t <= OPS[i].call);
        if (lane < 0) { lane = ends.length; ends.push(0); }
        ends[lane] = stop(OPS[i]);
        laneOf[i] = lane;
      }
      const lanes = Math.max(1, ends.length);
      rowOf.set(c, { y: y, lanes: lanes });
      y += lanes * LANE + 6;
    }
    height = y + 4;
  }
  const keys = [...new Set(OPS.map((op) => op.key))].sort();
  const failingKey = H.key != null ? H.key
    : keys.find((k) => H.partition === "key " + JSON.stringify(k)) || null;
  const culprits = OPS.map((op, i) => i).filter((i) => OPS[i].cannot_place);
  // A colour per key for its numbers and its line, so that two keys' orders read apart.
  const PALETTE = ["#6a3fa0", "#0f7a8a", "#b3541e", "#2d6a2e", "#9c2a6b", "#3a5fb0", "#7a6a00", "#4a4f57"];
  const colour = (k) => PALETTE[keys.indexOf(k) % PALETTE.length];

  // The span of a set of operations, with a margin.
  function span(indexes) {
    if (!indexes.length) return [0, end];
    let lo = Infinity, hi = 0;
    for (const i of indexes) {
      lo = Math.min(lo, OPS[i].call);
      hi = Math.max(hi, OPS[i].returned != null ? OPS[i].returned : OPS[i].call + 1);
    }
    const margin = Math.max(2, Math.round((hi - lo) * 0.08));
    return [Math.max(0, lo - margin), Math.min(end, hi + margin)];
  }
  // Around the violation: the operations that cannot be placed and the last of the prefix.
  function violationSpan() {
    const prefix = OPS.map((op, i) => i).filter((i) => OPS[i].order != null && OPS[i].key === failingKey)
      .sort((a, b) => OPS[a].order - OPS[b].order);
    return span(culprits.concat(prefix.slice(-3)));
  }

  // ---- The skeleton. ----

  const words = {
    "linearizable": `<b class="ok">✓ linearizable</b>: the number on a bar is its place in the order the checker found for its key`,
    "not linearizable": `<b class="bad">✗ NOT linearizable</b> on ${esc(H.partition)}: the numbered operations are the longest prefix the checker could order; one of the <span class="culprit-word">outlined</span> ones must come next, and none can`,
    "unknown": `<b class="bad">? not decided</b>: the checker's budget ran out on ${esc(H.partition)} (not a pass)`,
  };
  const options = [`<option value="">all keys (${keys.length})</option>`].concat(keys.map((k) =>
    `<option value="${esc(k)}">key ${esc(k)}${k === failingKey ? " ✗" : ""}</option>`)).join("");
  const section = document.createElement("section");
  section.id = "history";
  section.innerHTML = `
<div class="history-bar">
  <span><b>History</b>: ${OPS.length} operations of ${clients.length} client${clients.length === 1 ? "" : "s"} on ${keys.length} key${keys.length === 1 ? "" : "s"}. ${words[H.verdict] || esc(H.verdict)}.</span>
  <label>show <select id="history-key">${options}</select></label>
  ${failing && culprits.length ? `<button id="history-violation" title="zoom to the operations that cannot be placed">✗ around the violation</button>` : ""}
  <button id="history-whole" title="the whole run">whole run</button>
  ${H.text ? `<details id="history-evidence"><summary>the checker's evidence</summary><pre>${esc(H.text)}</pre></details>` : ""}
  <span id="history-pick" class="pick">Click a bar: its operation, and the timeline jumps to where its request reached a server.</span>
</div>
<div id="history-box"><svg id="history-svg"></svg></div>
<div class="history-legend">Bars: call → return, in ticks; <span class="swatch read"></span> read, <span class="swatch write"></span> write;
  dashed and fading = outcome unknown (the client gave up: it may have taken effect at any time after its call, or never);
  <span class="order-pill">3</span> = place in its key's order, and the line links a key's operations in that order, in its key's colour
  (${keys.slice(0, 12).map((k) => `<b style="color:${colour(k)}">${esc(k)}</b>`).join(" ")}${keys.length > 12 ? " …" : ""})${failing ? `; <span class="culprit-word">red outline</span> = cannot be placed` : ""}.</div>`;

  // ---- Drawing. ----

  let key = failing && failingKey != null ? failingKey : "";
  let range = key ? (failing ? violationSpan() : span(opsOf(key))) : [0, end];
  let tickNow = null; // the timeline cursor's tick
  function opsOf(k) { return OPS.map((op, i) => i).filter((i) => OPS[i].key === k); }

  function draw() {
    const box = section.querySelector("#history-box");
    const W = Math.max(480, box.clientWidth - 4);
    const [t0, t1] = range;
    const scale = (W - GUTTER - PAD) / Math.max(1, t1 - t0);
    const x = (t) => GUTTER + (Math.min(Math.max(t, t0 - 1), t1 + 1) - t0) * scale;
    const out = [`<svg id="history-svg" width="${W}" height="${height}">`,
      `<defs><linearGradient id="fade" x1="0" x2="1"><stop offset="0" stop-color="#fff2d6"/><stop offset="1" stop-color="#fff2d6" stop-opacity="0"/></linearGradient>`,
      `<clipPath id="history-clip"><rect x="${GUTTER}" y="0" width="${W - GUTTER}" height="${height}"/></clipPath></defs>`];
    // The axis: a label every 70 px or more, at a round number of ticks.
    const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000];
    const every = steps.find((s) => s * scale >= 70) || steps[steps.length - 1];
    for (let t = Math.ceil(t0 / every) * every; t <= t1; t += every) {
      out.push(`<line class="grid" x1="${x(t)}" x2="${x(t)}" y1="${AXIS - 4}" y2="${height}"/><text class="axis" x="${x(t) + 2}" y="12">${t}</text>`);
    }
    out.push(`<text class="axis" x="2" y="12">tick</text>`);
    for (const c of clients) {
      const row = rowOf.get(c);
      out.push(`<text class="client" x="4" y="${row.y + BAR - 4}">c${c}</text>`);
      out.push(`<line class="row-line" x1="${GUTTER}" x2="${W}" y1="${row.y + row.lanes * LANE + 2}" y2="${row.y + row.lanes * LANE + 2}"/>`);
    }
    out.push(`<g clip-path="url(#history-clip)">`);
    const barY = (i) => rowOf.get(OPS[i].client).y + laneOf[i] * LANE;
    for (let i = 0; i < OPS.length; i++) {
      const op = OPS[i];
      const known = op.returned != null;
      const x0 = x(op.call), x1 = known ? Math.max(x(op.returned), x0 + 3) : x(t1 + 1);
      if (x1 < GUTTER - 2 || x0 > W) continue;
      const y = barY(i);
      const read = /^get\b/.test(op.op);
      let cls = "op " + (read ? "read" : "write") + (known ? "" : " unknown");
      if (op.cannot_place) cls += " culprit";
      if (key && op.key !== key) cls += " dim";
      const answer = known ? op.output : "?";
      const title = `#${i} c${op.client}#${op.seq} [${op.call}, ${known ? op.returned : "?"}] ${op.op} → ${known ? op.output : "unknown outcome"}` +
        (op.attempts > 1 ? ` (${op.attempts} attempts)` : "") +
        (op.order != null ? `; place ${op.order} in key ${op.key}'s order` : "") +
        (op.cannot_place ? `; cannot be placed after the prefix: here the model says ${op.model_answer}` : "");
      out.push(`<g class="${cls}" data-op="${i}"${op.order != null ? ` data-order="${op.order}"` : ""}><title>${esc(title)}</title>`);
      out.push(`<rect class="bar" x="${x0}" y="${y}" width="${x1 - x0}" height="${BAR}" rx="3"/>`);
      let tx = x0 + 3;
      if (op.order != null) {
        const w = String(op.order).length * 6.5 + 6;
        out.push(`<rect class="order-bg" style="fill:${colour(op.key)}" x="${x0 + 2}" y="${y + 2}" width="${w}" height="${BAR - 4}" rx="6"/><text class="order" x="${x0 + 2 + w / 2}" y="${y + 13}">${op.order}</text>`);
        tx += w + 2;
      }
      const room = x1 - tx - 3;
      const text = `${op.op} → ${answer}`;
      if (room > 18) {
        const max = Math.floor(room / 6.2);
        out.push(`<text class="op-text" x="${tx}" y="${y + 13}">${esc(text.length > max ? text.slice(0, max - 1) + "…" : text)}</text>`);
      }
      if (op.cannot_place) out.push(`<text class="cross" x="${x0 - 11}" y="${y + 14}">✗</text>`);
      out.push(`</g>`);
    }
    // The line through the linearization points of the key shown (of every key, if few).
    const lined = key ? [key] : keys.length <= 3 ? keys : [];
    for (const k of lined) {
      const placed = OPS.map((op, i) => i).filter((i) => OPS[i].key === k && OPS[i].order != null)
        .sort((a, b) => OPS[a].order - OPS[b].order);
      let at = -Infinity;
      const points = placed.map((i) => {
        at = Math.max(at, OPS[i].call);
        return [x(at) + 1, barY(i) + BAR / 2];
      });
      const style = `style="stroke:${colour(k)};fill:${colour(k)}"`;
      if (points.length > 1) out.push(`<polyline class="order-line" style="stroke:${colour(k)}" points="${points.map((p) => p.join(",")).join(" ")}"/>`);
      for (const p of points) out.push(`<circle class="order-point" ${style} cx="${p[0]}" cy="${p[1]}" r="2.6"/>`);
    }
    if (tickNow != null && tickNow >= t0 && tickNow <= t1) {
      out.push(`<line class="now" x1="${x(tickNow)}" x2="${x(tickNow)}" y1="${AXIS - 6}" y2="${height}"/>`);
    }
    out.push(`</g></svg>`);
    box.innerHTML = out.join("");
  }

  // ---- Controls. ----

  function pick(i) {
    const op = OPS[i];
    const known = op.returned != null;
    section.querySelector("#history-pick").textContent =
      `#${i} c${op.client}#${op.seq} [${op.call}, ${known ? op.returned : "?"}] ${op.op} → ${known ? op.output : "unknown"}` +
      (op.attempts > 1 ? `, ${op.attempts} attempts` : "") +
      (op.order != null ? `; place ${op.order} in key ${op.key}'s order` : "") +
      (op.cannot_place ? `; ✗ cannot follow the prefix (here the model says ${op.model_answer})` : "");
    api.selectOperation(op);
  }
  section.addEventListener("click", (ev) => {
    const g = ev.target.closest && ev.target.closest("g[data-op]");
    if (g) pick(Number(g.dataset.op));
  });
  section.addEventListener("change", (ev) => {
    if (ev.target.id !== "history-key") return;
    key = ev.target.value;
    range = key ? span(opsOf(key)) : [0, end];
    draw();
  });
  section.addEventListener("click", (ev) => {
    if (ev.target.id === "history-whole") { range = [0, end]; draw(); }
    if (ev.target.id === "history-violation") {
      key = failingKey;
      section.querySelector("#history-key").value = key;
      range = violationSpan();
      draw();
    }
  });
  window.addEventListener("resize", draw);

  return {
    element: section,
    draw: function () {
      section.querySelector("#history-key").value = key;
      draw();
    },
    // The timeline's cursor moved to an event at `tick`.
    showTick: function (tick) { tickNow = tick; draw(); },
    // What is drawn, for the page's self-test.
    selftest: function () {
      const result = { verdict: H.verdict, key: key, operations: OPS.length };
      key = ""; range = [0, end]; draw(); // every bar, every number
      const groups = [...section.querySelectorAll("g[data-op]")];
      result.bars = groups.length;
      result.numbered = groups.filter((g) => g.dataset.order)
        .map((g) => [Number(g.dataset.op), Number(g.dataset.order), g.querySelector("text.order").textContent]);
      result.open = groups.filter((g) => g.classList.contains("unknown")).map((g) => Number(g.dataset.op));
      result.culprits = groups.filter((g) => g.classList.contains("culprit") && getComputedStyle(g.querySelector("rect.bar")).strokeWidth !== "0px")
        .map((g) => Number(g.dataset.op));
      result.openReachesTheEnd = result.open.every((i) => {
        const bar = section.querySelector(`g[data-op="${i}"] rect.bar`);
        return Number(bar.getAttribute("x")) + Number(bar.getAttribute("width")) >= section.querySelector("svg").getAttribute("width") - PAD;
      });
      result.rows = clients.length;
      return result;
    },
  };
};

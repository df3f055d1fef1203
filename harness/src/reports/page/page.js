// The trace page's script (harness/src/reports/page.rs inlines it). No library, no network: it reads
// the trace from <script id="trace">, builds the arrows and the per-node states once, then
// draws only the rows in view, so a 100,000-event run scrolls as freely as a 40-event one.
"use strict";
(function () {
  const errors = [];
  window.addEventListener("error", (e) => errors.push(String(e.message || e)));

  const T = JSON.parse(document.getElementById("trace").textContent);
  const parsedAt = performance.now();
  const E = T.events;
  const LOGS = T.logs || null;
  const params = new URLSearchParams(location.search);
  const ROW = 20;
  const GUTTER = 64;
  const MESSAGE_EVENTS = { send: 1, receive: 1, drop: 1, duplicate: 1 };
  const CATEGORY = {
    role: "role, term, vote", term: "role, term, vote", vote: "role, term, vote",
    commit: "commit, apply, propose", apply: "commit, apply, propose", propose: "commit, apply, propose",
    compact: "commit, apply, propose", restore: "commit, apply, propose",
    crash: "crash, restart, network", restart: "crash, restart, network", network: "crash, restart, network",
    panic: "crash, restart, network", with_node: "test, failure", failure: "test, failure",
  };

  // ---- The model: lanes, kinds, arrows, lane states, log changes. ----

  function column(e) {
    switch (e.event) {
      case "send": case "duplicate": return e.from;
      case "receive": return e.to;
      case "drop": return e.from;
      case "network": case "failure": return null;
      default: return e.node;
    }
  }
  function kindOf(e) {
    if (MESSAGE_EVENTS[e.event]) return String(e.message).split(/[\s{(]/)[0] || "message";
    return CATEGORY[e.event] || e.event;
  }
  const isReply = (kind) => /reply|ack|resp|grant|reject/i.test(kind);

  let N = T.nodes || 0;
  for (const e of E) N = Math.max(N, column(e) || 0, e.to || 0, e.from || 0);
  N = Math.max(N, 1);

  const kinds = new Map(); // kind -> count
  const kindIndex = new Array(E.length);
  for (let i = 0; i < E.length; i++) {
    const k = kindOf(E[i]);
    kindIndex[i] = k;
    kinds.set(k, (kinds.get(k) || 0) + 1);
  }

  // Arrows: a send (or a copy) to its receive or drop; a drop at send time is its own arrow.
  const arrows = [];
  const arrowOfEvent = new Int32Array(E.length).fill(-1);
  const exact = new Map(); // from|to|message|tick -> [arrow ids]
  const loose = new Map(); // from|to|message -> [arrow ids], for a receive at another tick
  let unmatchedReceives = 0;
  function queue(map, key, id) {
    let list = map.get(key);
    if (!list) map.set(key, (list = []));
    list.push(id);
  }
  function take(map, key, sentBefore) {
    const list = map.get(key);
    while (list && list.length && arrows[list[0]].e >= 0) list.shift();
    if (!list || !list.length || !(arrows[list[0]].s < sentBefore)) return -1;
    return list.shift();
  }
  // A drop is on arrival (ending a send's arrow) if the receiver crashed ("crashed"), or if the
  // link was cut ("cut") after the send: a network change lies between. Otherwise ("loss", a
  // message fault, a link already cut) the message was dropped as it was sent.
  let lastNetwork = -1;
  for (let i = 0; i < E.length; i++) {
    const e = E[i];
    const base = e.from + "|" + e.to + "|" + e.message;
    if (e.event === "network") lastNetwork = i;
    if (e.event === "send" || e.event === "duplicate") {
      const at = e.event === "send" ? e.deliver_at : e.again;
      const a = { id: arrows.length, from: e.from, to: e.to, s: i, e: -1, kind: kindIndex[i],
        status: "flight", copy: e.event === "duplicate", reason: null, at: at };
      arrows.push(a);
      arrowOfEvent[i] = a.id;
      if (at !== null && at !== undefined) queue(exact, base + "|" + at, a.id);
      queue(loose, base, a.id);
    } else if (e.event === "receive" || e.event === "drop") {
      const key = base + "|" + e.tick;
      let id = -1;
      if (e.event === "receive") {
        id = take(exact, key, i);
        if (id < 0) id = take(loose, base, i);
      } else if (e.reason === "crashed") {
        id = take(exact, key, i);
      } else if (e.reason === "cut") {
        id = take(exact, key, lastNetwork);
      }
      if (id >= 0) {
        const a = arrows[id];
        a.e = i;
        a.status = e.event === "receive" ? "delivered" : "dropped";
        a.reason = e.reason || null;
        arrowOfEvent[i] = id;
      } else if (e.event === "drop") {
        const a = { id: arrows.length, from: e.from, to: e.to, s: i, e: i, kind: kindIndex[i],
          status: "dropped", copy: false, reason: e.reason, atSend: true };
        arrows.push(a);
        arrowOfEvent[i] = a.id;
      } else {
        unmatchedReceives++;
      }
    }
  }

  // Lane states: where each node's role or up/down state changes, by event.
  const laneChanges = [];
  for (let n = 0; n <= N; n++) laneChanges.push([{ i: -1, state: "Follower", term: 0 }]);
  {
    const term = new Array(N + 1).fill(0);
    for (let i = 0; i < E.length; i++) {
      const e = E[i];
      let state = null;
      if (e.event === "role") state = e.role;
      else if (e.event === "crash") state = "down";
      else if (e.event === "restart") state = "Follower";
      if (e.term !== undefined && e.node) term[e.node] = e.term;
      if (state) laneChanges[e.node].push({ i: i, state: state, term: term[e.node] });
    }
  }
  function laneStateAt(n, i) { // the last change at or before event i
    const list = laneChanges[n];
    let lo = 0, hi = list.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (list[mid].i <= i) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  // The failure: it broke after the last event; the nodes and index it names.
  const violationEvent = T.failure ? E.length - 1 : -1;
  const flaggedNodes = new Set();
  let flaggedIndex = null;
  if (T.failure) {
    for (const m of T.failure.matchAll(/\bn(\d+)\b/g)) flaggedNodes.add(Number(m[1]));
    const m = /\bindex (\d+)/.exec(T.failure);
    if (m) flaggedIndex = Number(m[1]);
  }

  // ---- Node states after an event: replayed from checkpoints. ----

  const CHECK_EVERY = Math.max(1024, Math.ceil(E.length / 64));
  function blank() {
    const nodes = [null];
    for (let n = 1; n <= N; n++) {
      nodes.push({ up: true, role: "Follower", term: 0, vote: null, commit: 0, applied: 0, log: [] });
    }
    return { after: -1, nodes: nodes, net: [], logAt: 0 };
  }
  function copy(st) {
    return { after: st.after, net: st.net.slice(), logAt: st.logAt,
      nodes: st.nodes.map((s) => (s ? Object.assign({}, s, { log: s.log.slice() }) : s)) };
  }
  function advance(st, upto) { // applies events st.after+1 ..= upto
    for (let i = st.after + 1; i <= upto; i++) {
      const e = E[i];
      const s = e.node ? st.nodes[e.node] : null;
      switch (e.event) {
        case "term": s.term = e.term; break;
        case "role": s.role = e.role; s.term = e.term; break;
        case "vote": s.vote = e.voted_for; s.term = e.term; break;
        case "commit": s.commit = e.commit_index; break;
        case "apply": s.applied = e.last; break;
        case "restore": s.applied = e.index; break;
        case "crash": s.up = false; break;
        case "restart": s.up = true; s.role = "Follower"; s.term = e.term; s.commit = 0; break;
        case "network":
          if (e.change === "heal") st.net = ["heal"]; else st.net.push(e.change);
          if (st.net.length > 6) st.net.splice(0, st.net.length - 6);
          break;
        default: break;
      }
      window.applyLogChanges(st, LOGS, i); // page/logs.js
    }
    st.after = upto;
    return st;
  }
  const checkpoints = [blank()];
  {
    let st = blank();
    for (let k = 1; k * CHECK_EVERY <= E.length; k++) {
      st = advance(st, k * CHECK_EVERY - 1);
      checkpoints.push(copy(st));
    }
  }
  function stateAfter(i) {
    const k = Math.min(checkpoints.length - 1, Math.floor((i + 1) / CHECK_EVERY));
    return advance(copy(checkpoints[k]), i);
  }

  // ---- Filters and rows. ----

  const nodeOn = new Array(N + 1).fill(true);
  const kindOn = new Map([...kinds.keys()].map((k) => [k, true]));
  let rows = [];
  let rowsBefore = new Int32Array(E.length + 1);
  function visible(i) {
    const e = E[i];
    if (!kindOn.get(kindIndex[i])) return false;
    if (MESSAGE_EVENTS[e.event]) return nodeOn[e.from] && nodeOn[e.to];
    const c = column(e);
    return c === null || nodeOn[c];
  }
  function arrowVisible(a) {
    return kindOn.get(a.kind) && nodeOn[a.from] && nodeOn[a.to];
  }
  function layoutRows() {
    rows = [];
    for (let i = 0; i < E.length; i++) {
      rowsBefore[i] = rows.length;
      if (visible(i)) rows.push(i);
    }
    rowsBefore[E.length] = rows.length;
  }
  const totalRows = () => rows.length + (T.failure ? 1 : 0);
  const yOf = (i) => rowsBefore[i] * ROW + ROW / 2;

  // ---- The page's skeleton. ----

  // The failure's first line; a longer text (a linearizability failure's evidence and history)
  // folded under it, so that the diagram keeps the screen.
  function failureText(why) {
    const cut = why.indexOf("\n");
    if (cut < 0) return `<p class="failure" id="failure">✗ FAILED: ${esc(why)}</p>`;
    return `<p class="failure" id="failure">✗ FAILED: ${esc(why.slice(0, cut))}</p>` +
      `<details class="failure-more"><summary>the whole failure (${why.split("\n").length - 1} more lines)</summary><pre>${esc(why.slice(cut + 1))}</pre></details>`;
  }
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  const lastTick = E.length ? E[E.length - 1].tick : 0;
  document.body.insertAdjacentHTML("beforeend", `
<header>
  <h1>Raft run: seed ${esc(T.seed)}, ${N} node${N === 1 ? "" : "s"}, ${E.length.toLocaleString("en")} events, ticks 0 to ${lastTick}</h1>
  ${T.failure ? failureText(T.failure) : ""}
  <div class="controls">
    <button id="first" title="first event (Home)">« first</button>
    <button id="back" title="step back (← or k)">◀ back</button>
    <button id="fwd" title="step forward (→ or j)">forward ▶</button>
    <button id="last" title="last event (End)">last »</button>
    ${T.failure ? `<button id="to-violation" title="jump to the violation (v)">✗ jump to the violation</button>` : ""}
    <label>event # <input id="goto" type="number" min="0" max="${Math.max(0, E.length - 1)}" style="width:7em"></label>
    <span class="where" id="where"></span>
    <fieldset><legend>nodes</legend><span id="node-filters"></span></fieldset>
    <fieldset><legend>kinds</legend><span id="kind-filters"></span></fieldset>
  </div>
</header>
<main>
  <div id="diagram-box">
    <div id="lane-heads"></div>
    <div id="scroller"><div id="space"><div id="window"></div></div></div>
  </div>
  <aside>
    <div class="legend">Lanes: <b>thick</b> = LEADER, <b>dashed</b> = CANDIDATE, thin = follower,
      dotted = crashed. Arrows: send → receive; ✗ = dropped (with its reason); dotted = a duplicate's
      copy; dashed to the end = still in flight. Log entries: solid ✓ = committed, dashed = not yet.
      <span id="load-time"></span></div>
    <h2 id="state-title">State</h2>
    <div id="state"></div>
    <div id="details-box"><h2>Event details</h2><div id="details">Click an event or an arrow.</div></div>
  </aside>
</main>
<pre id="selftest"></pre>`);

  const $ = (id) => document.getElementById(id);
  const scroller = $("scroller"), space = $("space"), win = $("window");

  // The clients' history, for a stage 6 run that checked it (page/history.js).
  const history = T.history ? window.historyView(T.history, lastTick, { selectOperation: selectOperation }) : null;
  if (history) {
    document.body.classList.add("with-history");
    document.querySelector("main").before(history.element);
    history.draw();
  }
  // The timeline's event for a history bar: where the operation's request (`c12#5 put x=1`,
  // named by the client's session) first reached a server, else the first event at its call's
  // tick.
  function selectOperation(op) {
    const request = `c${op.session}#${op.seq} `;
    let found = -1, first = -1;
    for (let i = 0; i < E.length && found < 0; i++) {
      if (E[i].tick < op.call) continue;
      if (first < 0) first = i;
      if (E[i].event === "client" && String(E[i].text).startsWith(request)) found = i;
    }
    const i = found >= 0 ? found : first;
    if (i >= 0) {
      if (!visible(i)) {
        kindOn.set(kindIndex[i], true);
        nodeOn[column(E[i]) || 0] = true;
        relayout();
      }
      select(i, true);
    }
  }

  $("node-filters").innerHTML = Array.from({ length: N }, (_, k) =>
    `<label><input type="checkbox" data-node="${k + 1}" checked> n${k + 1}</label>`).join("");
  $("kind-filters").innerHTML = [...kinds.entries()].map(([k, count]) =>
    `<label><input type="checkbox" data-kind="${esc(k)}" checked> ${esc(k)} (${count})</label>`).join("");

  // ---- Drawing the window in view. ----

  let laneW = 180;
  let cursor = -1; // the event whose state the panel shows
  let selectedArrow = -1;
  const laneX = (n) => GUTTER + (n - 0.5) * laneW;
  function laneOf(i) {
    const e = E[i];
    if (e.event === "drop" && arrowOfEvent[i] >= 0 && !arrows[arrowOfEvent[i]].atSend) return e.to;
    return column(e);
  }
  function label(e) {
    switch (e.event) {
      case "send": return `→ n${e.to} ${e.message}` + (e.deliver_at != null ? ` (at ${e.deliver_at})` : "");
      case "receive": return `← n${e.from} ${e.message}`;
      case "drop": return `✗ n${e.from}→n${e.to} ${e.message}: dropped (${e.reason})`;
      case "duplicate": return `⇉ n${e.to} copy of ${e.message} (at ${e.again})`;
      case "role": return `${e.role === "Follower" ? "follower" : e.role.toUpperCase()} t${e.term}`;
      case "term": return `term ${e.term}`;
      case "vote": return `votes n${e.voted_for} in t${e.term}`;
      case "commit": return `commit_index ${e.commit_index}`;
      case "apply": return `apply ${e.first}..=${e.last}`;
      case "compact": return `compact through ${e.index}`;
      case "restore": return `state machine ← snapshot through ${e.index}`;
      case "propose": return e.index != null ? `propose ${e.command} → index ${e.index}` : `propose ${e.command}: not leader`;
      case "client": return `client ${e.text}`;
      case "with_node": return `with_node (the test reached in) t${e.term}`;
      case "crash": return "CRASH";
      case "restart": return `RESTART t${e.term}`;
      case "network": return `network: ${e.change}`;
      case "panic": return `PANIC: ${e.message}`;
      case "failure": return `FAILED: ${e.why}`;
      default: return e.event;
    }
  }
  // A log command as the log grid shows it: stage 6's entries are JSON (`{"Request": {"client":
  // 1, "seq": 2, "op": {"Put": {"key": "x", "value": "1"}}}}`, `"Noop"`), shown as `c1#2 put x
  // 1` and `no-op`; anything else as it is. The whole command is in the entry's tooltip.
  function shortCommand(text) {
    let entry;
    try {
      const inner = JSON.parse(text); // the Debug form of a string is a JSON string here
      entry = typeof inner === "string" ? JSON.parse(inner) : null;
    } catch (err) {
      return text;
    }
    if (entry === "Noop") return "no-op";
    const r = entry && entry.Request;
    if (!r || typeof r.op !== "object" || r.op === null) return text;
    const [kind, args] = Object.entries(r.op)[0] || ["?", {}];
    const values = Object.values(args || {}).map((v) => (v === null ? "absent" : String(v)));
    return `c${r.client}#${r.seq} ${kind.toLowerCase()} ${values.join(" ")}`;
  }
  function fit(text, px) {
    const max = Math.max(4, Math.floor(px / 6.1));
    return text.length > max ? text.slice(0, max - 1) + "…" : text;
  }

  function draw() {
    const top = scroller.scrollTop, height = scroller.clientHeight || 600;
    const r0 = Math.max(0, Math.floor(top / ROW) - 8);
    const r1 = Math.min(totalRows(), Math.ceil((top + height) / ROW) + 8);
    drawRows(r0, r1);
    heads(Math.min(rows.length - 1, Math.floor(top / ROW)));
  }

  function drawRows(r0, r1) {
    const width = GUTTER + N * laneW;
    const y0 = r0 * ROW, y1 = r1 * ROW;
    const out = [];
    out.push(`<svg width="${width}" height="${Math.max(ROW, y1 - y0)}" data-rows="${r0}-${r1}">`);
    out.push(`<defs><marker id="head" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#3b5b92"></path></marker></defs>`);
    out.push(`<g transform="translate(0,${-y0})">`);
    // Row backgrounds (click targets).
    for (let r = r0; r < r1 && r < rows.length; r++) {
      const i = rows[r];
      const cls = i === cursor ? "row-bg cursor" : "row-bg";
      out.push(`<rect class="${cls}" data-i="${i}" x="0" y="${r * ROW}" width="${width}" height="${ROW}"></rect>`);
    }
    // Lanes: one segment per state, stroke by role.
    const firstEvent = r0 < rows.length ? rows[r0] : E.length - 1;
    const lastEvent = Math.min(r1, rows.length) - 1 >= 0 ? rows[Math.min(r1, rows.length) - 1] : -1;
    for (let n = 1; n <= N; n++) {
      const x = laneX(n);
      const list = laneChanges[n];
      let k = laneStateAt(n, firstEvent - 1);
      let yStart = y0;
      while (true) {
        const next = k + 1 < list.length && list[k + 1].i <= lastEvent ? list[k + 1] : null;
        const yEnd = next ? rowsBefore[next.i] * ROW + ROW / 2 : y1;
        const dim = nodeOn[n] ? "" : ' opacity="0.25"';
        out.push(`<line class="lane ${list[k].state}"${dim} data-lane="${n}" x1="${x}" x2="${x}" y1="${yStart}" y2="${yEnd}"></line>`);
        if (!next) break;
        yStart = yEnd;
        k++;
      }
    }
    // Arrows that cross the window.
    for (const a of arrows) {
      if (!arrowVisible(a)) continue;
      const ys = yOf(a.s);
      const ye = a.e >= 0 ? yOf(a.e) + (a.atSend ? ROW * 0.45 : 0) : totalRows() * ROW;
      if (ye < y0 || ys > y1) continue;
      const xs = laneX(a.from);
      let xe = laneX(a.to);
      let cls = "arrow" + (isReply(a.kind) ? " reply" : "");
      if (a.copy) cls += " copy";
      if (a.status === "flight") cls += " flight";
      if (a.status === "dropped") {
        cls += " dropped";
        if (a.atSend) xe = xs + (xe - xs) * 0.4;
      }
      if (a.id === selectedArrow) cls += " selected";
      const title = `${a.kind}: n${a.from} → n${a.to}, ${a.status}${a.reason ? " (" + a.reason + ")" : ""}${a.copy ? ", duplicate copy" : ""}: ${E[a.s].message}`;
      out.push(`<g data-arrow="${a.id}"><title>${esc(title)}</title><line class="${cls}" x1="${xs}" y1="${ys}" x2="${xe}" y2="${ye}"></line><line class="hit" data-arrow="${a.id}" x1="${xs}" y1="${ys}" x2="${xe}" y2="${ye}"></line>`);
      if (a.status === "dropped") {
        out.push(`<text class="cross" x="${xe - 4}" y="${ye + 5}">✗</text>`);
      }
      out.push(`</g>`);
    }
    // Event glyphs and labels.
    let prevTick = r0 > 0 && r0 - 1 < rows.length ? E[rows[r0 - 1]].tick : -1;
    for (let r = r0; r < r1 && r < rows.length; r++) {
      const i = rows[r], e = E[i], y = r * ROW + ROW / 2;
      out.push(`<text class="tick${e.tick === prevTick ? " same" : ""}" x="6" y="${y + 4}">${e.tick}</text>`);
      prevTick = e.tick;
      const lane = laneOf(i);
      const text = label(e);
      if (lane === null) {
        const cls = e.event === "failure" ? "failure" : "net";
        out.push(`<rect class="band ${cls}" data-i="${i}" x="${GUTTER}" y="${r * ROW + 2}" width="${width - GUTTER}" height="${ROW - 4}"></rect>`);
        out.push(`<text class="band-text" data-i="${i}" x="${GUTTER + 8}" y="${y + 4}">${esc(fit("⚡ " + text, width - GUTTER - 16))}</text>`);
        continue;
      }
      const x = laneX(lane);
      if (e.event === "role" || e.event === "crash" || e.event === "restart") {
        const cls = e.event === "role" ? e.role : e.event;
        const w = text.length * 7 + 10;
        out.push(`<rect class="badge ${cls}" data-i="${i}" x="${x - 6}" y="${r * ROW + 2}" width="${w}" height="${ROW - 4}" rx="3"></rect>`);
        out.push(`<text class="badge-text" data-i="${i}" x="${x - 1}" y="${y + 4}">${esc(text)}</text>`);
      } else {
        const send = e.event === "send" || e.event === "duplicate";
        out.push(`<circle class="dot${send ? " send" : ""}" data-i="${i}" cx="${x}" cy="${y}" r="3.5"></circle>`);
        const cls = e.event === "drop" || e.event === "panic" ? "drop-text" : "";
        out.push(`<text class="${cls}" data-i="${i}" x="${x + 7}" y="${y + 4}">${esc(fit(text, laneW - 14))}</text>`);
      }
      if (i === violationEvent) {
        out.push(`<rect class="violation" data-event="${i}" data-node="${lane}" x="${x - 10}" y="${r * ROW}" width="${laneW - 4}" height="${ROW}" rx="4"><title>${esc("the failure was found after this event: " + T.failure)}</title></rect>`);
      }
    }
    if (T.failure && r1 >= totalRows()) {
      const r = rows.length, y = r * ROW + ROW / 2;
      out.push(`<rect class="failure-band" x="0" y="${r * ROW + 1}" width="${width}" height="${ROW - 2}"></rect>`);
      out.push(`<text class="failure-text" x="6" y="${y + 4}">${esc(fit((E.length ? E[E.length - 1].tick : 0) + "  ✗ " + T.failure, width - 12))}</text>`);
    }
    out.push(`</g></svg>`);
    win.style.top = y0 + "px";
    win.innerHTML = out.join("");
  }

  function heads(r) {
    const i = r >= 0 && r < rows.length ? rows[r] : -1;
    const parts = [];
    for (let n = 1; n <= N; n++) {
      const c = laneChanges[n][laneStateAt(n, i)];
      const now = c.state === "down" ? "crashed" : c.state === "Follower" ? "follower" : c.state.toUpperCase();
      const cls = c.state === "down" ? "role-down" : "role-" + c.state;
      parts.push(`<div class="lane-head" data-node="${n}" style="left:${laneX(n) - laneW / 2}px;width:${laneW}px">n${n}<span class="now ${cls}">${now}</span></div>`);
    }
    $("lane-heads").innerHTML = parts.join("");
    $("lane-heads").scrollLeft = scroller.scrollLeft;
  }

  // ---- The state panel and the details. ----

  function showState() {
    const i = cursor;
    const st = stateAfter(i);
    const e = E[i];
    $("state-title").textContent = i < 0 ? "State at the start" : `State after event #${i} (tick ${e.tick})`;
    $("where").textContent = i < 0 ? "" : `#${i} of ${E.length}, tick ${e.tick}: ${label(e)}`;
    const out = [`<table class="state"><tr><th>node</th><th>role</th><th>term</th><th>vote</th><th>commit</th><th>log</th><th>applied</th></tr>`];
    for (let n = 1; n <= N; n++) {
      const s = st.nodes[n];
      const role = s.up ? (s.role === "Follower" ? "follower" : s.role.toUpperCase()) : "CRASHED";
      const cls = s.up ? "role-" + s.role : "role-down";
      out.push(`<tr data-node="${n}"><td>n${n}</td><td class="role ${cls}">${role}</td><td class="term">${s.term}</td><td>${s.vote ? "n" + s.vote : "-"}</td><td>${s.commit}</td><td>${s.log.length}</td><td>${s.applied}</td></tr>`);
    }
    out.push(`</table>`);
    if (st.net.length) out.push(`<p class="legend">network since the last heal: ${esc(st.net.join("; "))}</p>`);
    // Logs side by side, one row per index, so that entries at one index compare at a glance.
    let longest = 0;
    for (let n = 1; n <= N; n++) longest = Math.max(longest, st.nodes[n].log.length);
    let last = longest, first = Math.max(1, longest - 15);
    if (i === violationEvent && flaggedIndex !== null && flaggedIndex < first) {
      first = Math.max(1, flaggedIndex - 3);
      last = Math.min(longest, first + 15);
    }
    out.push(`<h2>Logs: term and command per index (✓ committed on that node; ≠ differs)</h2>`);
    if (!LOGS) out.push(`<p class="more">This trace has no log changes (written by an older harness).</p>`);
    else if (!longest) out.push(`<p class="more">Every log is empty.</p>`);
    else {
      out.push(`<table class="state logs"><tr><th>index</th>`);
      for (let n = 1; n <= N; n++) out.push(`<th>n${n}${st.nodes[n].up ? "" : " (down)"}</th>`);
      out.push(`</tr>`);
      if (first > 1) out.push(`<tr><td class="more" colspan="${N + 1}">… ${first - 1} earlier entries</td></tr>`);
      for (let index = first; index <= last; index++) {
        const held = [];
        for (let n = 1; n <= N; n++) { const x = st.nodes[n].log[index - 1]; if (x) held.push(x[0] + "|" + x[1]); }
        const differs = new Set(held).size > 1;
        out.push(`<tr data-index="${index}"><td>${index}${differs ? " ≠" : ""}</td>`);
        for (let n = 1; n <= N; n++) {
          const s = st.nodes[n], x = s.log[index - 1];
          if (!x) { out.push(`<td class="more">-</td>`); continue; }
          const committed = index <= s.commit;
          const flagged = flaggedIndex === index && flaggedNodes.has(n) && i === violationEvent;
          out.push(`<td><span class="entry${committed ? " committed" : ""}${flagged ? " flagged" : ""}" title="index ${index}, term ${x[0]}${committed ? ", committed" : ""}: ${esc(x[1])}">t${x[0]} ${esc(fit(shortCommand(x[1]), 11 * 6.1))}${committed ? " ✓" : ""}</span></td>`);
        }
        out.push(`</tr>`);
      }
      out.push(`</table>`);
    }
    $("state").innerHTML = out.join("");
  }

  function details(i) {
    const e = E[i];
    const lines = [`#${i}, tick ${e.tick}: ${esc(label(e))}`];
    const id = arrowOfEvent[i];
    if (id >= 0) {
      const a = arrows[id];
      const go = (j) => `<a data-go="${j}">#${j} (tick ${E[j].tick})</a>`;
      lines.push(`message ${esc(a.kind)} n${a.from} → n${a.to}${a.copy ? " (a duplicate's copy)" : ""}: sent at ${go(a.s)}, ` +
        (a.status === "delivered" ? `received at ${go(a.e)}` :
         a.status === "dropped" ? `dropped (${esc(a.reason)})${a.atSend ? " when sent" : " at " + go(a.e)}` :
         `still in flight when the trace ends`));
    }
    if (i === violationEvent) lines.push(`<b>✗ the failure was found after this event:</b> ${esc(T.failure)}`);
    lines.push(esc(JSON.stringify(e, null, 1)));
    $("details").innerHTML = lines.join("\n");
  }

  // ---- Moving around. ----

  function select(i, scroll) {
    if (i < -1 || i >= E.length) return;
    cursor = i;
    if (i >= 0) details(i);
    if (history) history.showTick(i >= 0 ? E[i].tick : null);
    showState();
    if (scroll && i >= 0) {
      const y = rowsBefore[i] * ROW;
      if (y < scroller.scrollTop || y > scroller.scrollTop + scroller.clientHeight - 2 * ROW) {
        scroller.scrollTop = Math.max(0, y - scroller.clientHeight / 2);
      }
    }
    draw();
  }
  function step(delta) {
    if (!rows.length) return;
    let r = cursor < 0 ? (delta > 0 ? -1 : 0) : rowsBefore[cursor];
    if (cursor >= 0 && !visible(cursor) && delta > 0) r -= 1;
    r = Math.max(0, Math.min(rows.length - 1, r + delta));
    select(rows[r], true);
  }
  function relayout() {
    const avail = (scroller.clientWidth || 900) - GUTTER - 12;
    laneW = Math.max(150, Math.floor(avail / N));
    layoutRows();
    space.style.height = totalRows() * ROW + "px";
    space.style.width = GUTTER + N * laneW + "px";
    draw();
  }

  $("first").onclick = () => select(rows.length ? rows[0] : -1, true);
  $("back").onclick = () => step(-1);
  $("fwd").onclick = () => step(1);
  $("last").onclick = () => select(rows.length ? rows[rows.length - 1] : -1, true);
  if (T.failure) $("to-violation").onclick = () => select(violationEvent, true);
  $("goto").onchange = (ev) => select(Number(ev.target.value), true);
  document.addEventListener("keydown", (ev) => {
    if (ev.target.tagName === "INPUT") return;
    const keys = { ArrowRight: () => step(1), j: () => step(1), ArrowLeft: () => step(-1), k: () => step(-1),
      Home: () => $("first").onclick(), End: () => $("last").onclick(),
      v: () => T.failure && select(violationEvent, true) };
    if (keys[ev.key]) { keys[ev.key](); ev.preventDefault(); }
  });
  document.querySelector(".controls").addEventListener("change", (ev) => {
    const t = ev.target;
    if (t.dataset.node) nodeOn[Number(t.dataset.node)] = t.checked;
    else if (t.dataset.kind !== undefined) kindOn.set(t.dataset.kind, t.checked);
    else return;
    relayout();
  });
  win.addEventListener("click", (ev) => {
    const t = ev.target.closest("[data-i],[data-arrow]");
    if (!t) return;
    if (t.dataset.arrow !== undefined) {
      selectedArrow = Number(t.dataset.arrow);
      select(arrows[selectedArrow].s, false);
    } else {
      selectedArrow = -1;
      select(Number(t.dataset.i), false);
    }
  });
  $("details").addEventListener("click", (ev) => {
    const go = ev.target.dataset && ev.target.dataset.go;
    if (go !== undefined) select(Number(go), true);
  });
  let pending = false;
  scroller.addEventListener("scroll", () => {
    $("lane-heads").scrollLeft = scroller.scrollLeft;
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; draw(); });
  });
  window.addEventListener("resize", relayout);
  window.addEventListener("beforeprint", () => {
    // Print the rows around the cursor (40 before, 20 after), whole.
    const r = cursor >= 0 ? rowsBefore[cursor] : 0;
    drawRows(Math.max(0, r - 40), Math.min(totalRows(), r + 21));
    win.style.top = "0";
  });
  window.addEventListener("afterprint", draw);

  // ---- First draw. ----

  relayout();
  const at = params.get("at");
  const start = at !== null ? Number(at) : violationEvent >= 0 ? violationEvent : (E.length ? 0 : -1);
  select(start, true);
  const loadMs = performance.now() - (window.pageStart || 0);
  $("load-time").textContent = ` Drawn in ${Math.round(loadMs)} ms (${E.length.toLocaleString("en")} events, ${arrows.length.toLocaleString("en")} arrows).`;
  document.body.dataset.loadMs = String(Math.round(loadMs));

  // ---- Self-test (?selftest=1): what a person would see, written into the DOM. ----

  if (params.get("selftest") === "1") {
    const result = { events: E.length, nodes: N, loadMs: Math.round(loadMs),
      parseMs: Math.round(parsedAt - (window.pageStart || 0)), unmatchedReceives: unmatchedReceives };
    try {
      result.lanes = document.querySelectorAll("#lane-heads .lane-head").length;
      // Draw every window in turn and collect the arrows drawn.
      const seen = new Set();
      const page = 60;
      const limit = Number(params.get("pages") || 1e9);
      for (let r = 0, p = 0; r < totalRows() && p < limit; r += page, p++) {
        drawRows(r, Math.min(totalRows(), r + page));
        for (const g of win.querySelectorAll("g[data-arrow]")) seen.add(g.dataset.arrow);
      }
      result.arrowsDrawn = seen.size;
      result.arrowsModel = arrows.length;
      result.dropped = arrows.filter((a) => a.status === "dropped").length;
      result.inFlight = arrows.filter((a) => a.status === "flight").length;
      // The violation marker, in the window around it.
      if (violationEvent >= 0) {
        select(violationEvent, true);
        drawRows(Math.max(0, rowsBefore[violationEvent] - 5), totalRows());
        const marks = win.querySelectorAll(".violation");
        result.violation = marks.length === 1
          ? { event: Number(marks[0].dataset.event), node: Number(marks[0].dataset.node), tick: E[Number(marks[0].dataset.event)].tick,
              failureRow: !!win.querySelector(".failure-text"), header: !!$("failure") }
          : { count: marks.length };
      } else {
        result.violation = null;
      }
      // Stepping: from the first event, press "forward" and read the state table each time.
      const readRoles = () => [...document.querySelectorAll("#state table.state tr[data-node]")].map((tr) =>
        tr.querySelector(".role").textContent + " t" + tr.querySelector(".term").textContent);
      const readLogs = () => [...document.querySelectorAll("#state table.logs tr[data-index]")].map((tr) => tr.textContent).join(" | ");
      $("first").click();
      const steps = [{ event: cursor, roles: readRoles(), logs: readLogs() }];
      const count = Math.min(Number(params.get("steps") || 200), rows.length - 1);
      for (let s = 0; s < count; s++) {
        $("fwd").click();
        steps.push({ event: cursor, roles: readRoles(), logs: readLogs() });
      }
      const before = JSON.stringify(readRoles()) + JSON.stringify(readLogs());
      for (let s = 0; s < count; s++) $("back").click();
      const back = { event: cursor, roles: readRoles(), logs: readLogs() };
      result.steps = steps;
      result.backToStart = JSON.stringify(back) === JSON.stringify(steps[0]);
      result.stepChangedState = steps.some((s) => JSON.stringify(s.roles) + JSON.stringify(s.logs) !== JSON.stringify(steps[0].roles) + JSON.stringify(steps[0].logs));
      result.endState = before;
      // Filtering by node hides that node's events.
      if (N > 1) {
        const box = document.querySelector('input[data-node="1"]');
        box.checked = false;
        box.dispatchEvent(new Event("change", { bubbles: true }));
        result.rowsWithoutN1 = rows.length;
        result.rowsExpectedWithoutN1 = E.filter((e) => MESSAGE_EVENTS[e.event] ? e.from !== 1 && e.to !== 1 : column(e) !== 1).length;
        box.checked = true;
        box.dispatchEvent(new Event("change", { bubbles: true }));
      }
      // The history view: what it draws, and a click on a bar moves the timeline to its request.
      if (history) {
        result.history = history.selftest();
        const target = result.history.culprits[0] !== undefined ? result.history.culprits[0] : 0;
        document.querySelector(`#history g[data-op="${target}"] rect.bar`).dispatchEvent(new MouseEvent("click", { bubbles: true }));
        result.history.clicked = { op: target, event: cursor, text: cursor >= 0 ? String(E[cursor].text || "") : "" };
      }
    } catch (err) {
      errors.push("selftest: " + (err && err.stack || err));
    }
    result.errors = errors;
    $("selftest").textContent = JSON.stringify(result);
  }
})();

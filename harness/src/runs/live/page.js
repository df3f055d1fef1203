// The live page's script (harness/src/runs/live/server.rs serves it inline). No library, no build
// step, no network beyond its own server: it polls GET /update for the run's events (the trace
// file's format) and POSTs the person's clicks to /input. It draws what the events say, at the
// event it stands at: playing, it follows the newest; paused, "step" walks one event at a time
// and asks the server for the next tick when it has shown them all.
"use strict";
(function () {
  const errors = [];
  window.addEventListener("error", (e) => errors.push(String(e.message || e)));
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  const SVG = "http://www.w3.org/2000/svg";
  const N = 5;

  document.body.insertAdjacentHTML("beforeend", `
<header>
  <h1 id="title">Raft live</h1>
  <p id="failure"></p>
  <div class="controls">
    <button id="play" title="run the clock (space)">‖ pause</button>
    <button id="back" title="show the event before (←)">◀ event</button>
    <button id="step" title="show the next event; at the newest, run one tick (→)">event ▶</button>
    <span class="clock" id="clock">tick 0</span>
    <label>speed <input id="speed" type="range" min="1" max="40" value="10"> <span id="speed-shown">10</span> ticks/s</label>
    <label>time <input id="travel" type="range" min="0" max="0" value="0" title="back through the run: replayed from the seed"></label>
    <button id="save" title="write the trace (the trace page opens it) and the replay command">save</button>
  </div>
  <div class="controls">
    <button id="request" title="a client request to the leader">request → leader</button>
    <button id="split" title="the leader and one follower apart from the other three">split leader + 1 | 3</button>
    <label>isolate <select id="isolate"><option value="">…</option>${[1, 2, 3, 4, 5].map((n) => `<option value="${n}">n${n}</option>`).join("")}</select></label>
    <button id="heal" title="every link works again">heal</button>
    <label>lose <select id="loss"><option>0</option><option>10</option><option>30</option><option>60</option></select>%</label>
    <label>delay <select id="delay"><option value="1..3">1–3 ticks</option><option value="3..10">3–10</option><option value="10..30">10–30</option></select></label>
    <span id="said"></span>
  </div>
</header>
<main>
  <svg id="ring" viewBox="0 0 560 520" role="img" aria-label="the servers on a ring"></svg>
  <aside>
    <h2>Click a server to crash it, again to restart it; Shift-click to send it a request</h2>
    <div class="legend">
      <span><i style="background:#2f6fdf;border-color:#2f6fdf"></i>RequestVote</span>
      <span><i style="border-color:#2f6fdf"></i>its reply</span>
      <span><i style="background:#1b9e4b;border-color:#1b9e4b"></i>AppendEntries</span>
      <span><i style="border-color:#1b9e4b"></i>its reply</span>
      <span><i style="background:#8e44ad;border-color:#8e44ad"></i>InstallSnapshot</span>
      <span><b style="color:#c21f1f">✗</b> dropped</span>
    </div>
    <p id="timer-note"></p>
    <h2>Actions (recorded with their tick: seed + actions replay the run)</h2>
    <pre id="actions"></pre>
    <h2>Saved</h2>
    <textarea id="saved" readonly placeholder="“save” writes the trace and its trace page, and the command that replays this run"></textarea>
  </aside>
</main>
<div id="logs-box"><h2>Logs (index × server; term by colour; committed framed solid; ▨ in a snapshot)</h2><table id="logs"></table></div>`);

  // ---- What the server sent, and the event shown. ----

  let run = null; // the latest update's settings
  let generation = -1;
  let E = []; // events of this generation
  let LOGS = []; // log changes
  let cursor = -1; // the last event shown
  let follow = true; // show every new event as it comes
  let running = false;
  let speed = 10;
  let shown = 0; // the tick drawn (fractional while playing)
  let pendingStep = false;

  // ---- Server states after an event, replayed from the events (as the trace page does). ----

  function blank() {
    const nodes = [null];
    for (let n = 1; n <= N; n++) {
      nodes.push({ up: true, role: "Follower", term: 0, vote: null, commit: 0, snapshot: 0, heard: 0, log: [] });
    }
    return { after: -1, logAt: 0, nodes: nodes, flight: [], drops: [] };
  }
  let st = blank();
  const kindOf = (message) => String(message).split(/[\s{(]/)[0] || "message";
  const isReply = (kind) => /reply|ack|resp|grant|reject/i.test(kind);
  function advance(upto) {
    if (upto < st.after) st = blank();
    for (let i = st.after + 1; i <= upto; i++) {
      const e = E[i];
      const s = e.node ? st.nodes[e.node] : null;
      switch (e.event) {
        case "term": s.term = e.term; break;
        case "role":
          s.role = e.role; s.term = e.term;
          if (e.role === "Candidate") s.heard = e.tick; // a candidate's timer starts again (§5.2)
          break;
        case "vote": s.vote = e.voted_for; s.term = e.term; s.heard = e.tick; break; // granting a vote resets it
        case "commit": s.commit = e.commit_index; break;
        case "compact": s.snapshot = Math.max(s.snapshot, e.index); break;
        case "restore": s.snapshot = Math.max(s.snapshot, e.index); break;
        case "crash": s.up = false; break;
        case "restart": s.up = true; s.role = "Follower"; s.term = e.term; s.commit = 0; s.heard = e.tick; break;
        case "send":
          if (e.deliver_at !== null && e.deliver_at !== undefined) st.flight.push(flying(e, e.deliver_at));
          break;
        case "duplicate": st.flight.push(flying(e, e.again)); break;
        case "receive": {
          arrived(e);
          const from = st.nodes[e.from], to = st.nodes[e.to];
          // Heard from a leader (§5.2): the message of a leader whose term is at least ours.
          if (from.role === "Leader" && from.term >= e.term) to.heard = e.tick;
          break;
        }
        case "drop":
          if (!arrived(e)) st.drops.push({ from: e.from, to: e.to, tick: e.tick, atSend: true, reason: e.reason });
          break;
        default: break;
      }
      window.applyLogChanges(st, LOGS, i); // reports/page/logs.js, shared with the trace page
    }
    st.after = upto;
    if (st.drops.length > 40) st.drops.splice(0, st.drops.length - 40);
  }
  function flying(e, at) {
    return { from: e.from, to: e.to, kind: kindOf(e.message), text: e.message, sent: e.tick, at: at };
  }
  // A receive or a drop on arrival ends the first message on its way with the same ends, text
  // and arrival tick; a drop that ends none was a drop as it was sent.
  function arrived(e) {
    const k = st.flight.findIndex((m) => m.from === e.from && m.to === e.to && m.text === e.message && m.at === e.tick);
    if (k < 0) return false;
    const m = st.flight.splice(k, 1)[0];
    if (e.event === "drop") st.drops.push({ from: m.from, to: m.to, tick: e.tick, atSend: false, reason: e.reason });
    return true;
  }

  // ---- Drawing. ----

  const CX = 280, CY = 250, R = 180, BODY = 40;
  function at(n) {
    const a = -Math.PI / 2 + (n - 1) * 2 * Math.PI / N;
    return [CX + R * Math.cos(a), CY + R * Math.sin(a)];
  }
  function colour(kind) {
    if (/^RequestVote|^Vote/.test(kind)) return "#2f6fdf";
    if (/^Append/.test(kind)) return "#1b9e4b";
    if (/Snapshot/.test(kind)) return "#8e44ad";
    return "#777";
  }
  const ring = $("ring");
  // One listener for the ring, on press: the ring is drawn anew every frame, so a click's
  // press and release could land on two different drawings of the same server.
  ring.addEventListener("mousedown", (e) => {
    const server = e.target.closest(".server");
    if (!server) return;
    const node = Number(server.dataset.node);
    // Shift: a client request to this very server (a follower refuses it, a stale leader
    // takes it); else crash it, or restart it if it is down.
    send(e.shiftKey ? { do: "request", node: node } : { do: "toggle", node: node });
  });
  function el(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    (parent || ring).appendChild(node);
    return node;
  }
  function arc(x, y, r, fraction) {
    if (fraction >= 0.999) return `M ${x} ${y - r} A ${r} ${r} 0 1 1 ${x - 0.01} ${y - r}`;
    const a = -Math.PI / 2 + fraction * 2 * Math.PI;
    const large = fraction > 0.5 ? 1 : 0;
    return `M ${x} ${y - r} A ${r} ${r} 0 ${large} 1 ${x + r * Math.cos(a)} ${y + r * Math.sin(a)}`;
  }
  let drawn = { messages: 0, drops: 0 };
  function flagged() {
    const set = new Set();
    if (run && run.failure) for (const m of run.failure.matchAll(/\bn(\d+)\b/g)) set.add(Number(m[1]));
    return set;
  }
  function drawRing() {
    ring.textContent = "";
    const views = run ? run.nodes : [];
    const T = run ? run.config.election_timeout : 20;
    const bad = flagged();
    const latest = follow && cursor === E.length - 1;
    for (let a = 1; a <= N; a++) {
      for (let b = a + 1; b <= N; b++) {
        const [x1, y1] = at(a), [x2, y2] = at(b);
        // A crashed server is crossed out, not cut off: only a live one's links show as cut.
        const off = (v) => v && v.up && !v.connected;
        const cut = latest && (off(views[a - 1]) || off(views[b - 1]));
        el("line", { x1: x1, y1: y1, x2: x2, y2: y2, class: "link" + (cut ? " cut" : "") });
      }
    }
    for (let n = 1; n <= N; n++) {
      const s = st.nodes[n], [x, y] = at(n);
      const view = views[n - 1];
      const cut = latest && view && s.up && !view.connected;
      const g = el("g", { class: `server ${s.up ? s.role : "down"}${cut ? " cut" : ""}${bad.has(n) ? " flagged" : ""}`, id: `server-${n}`, "data-node": n });
      // The election timer: ticks since it heard from a leader, voted or stood, against the
      // range its timeout is drawn from, [T, 2T): the dark arc runs out at 2T, and the timeout
      // fires somewhere in the yellow band (the node's own draw is not visible to the harness).
      if (s.up && s.role !== "Leader") {
        const left = Math.max(0, 1 - (shown - s.heard) / (2 * T));
        el("path", { d: arc(x, y, BODY + 13, 0.5), class: "timer-band" }, g);
        if (left > 0) el("path", { d: arc(x, y, BODY + 7, left), class: "timer" }, g);
      }
      el("circle", { cx: x, cy: y, r: BODY, class: "body" }, g);
      if (!s.up) {
        el("line", { x1: x - 24, y1: y - 24, x2: x + 24, y2: y + 24, class: "cross" }, g);
        el("line", { x1: x - 24, y1: y + 24, x2: x + 24, y2: y - 24, class: "cross" }, g);
      }
      const name = el("text", { x: x, y: y - 6, "text-anchor": "middle", class: "name" }, g);
      name.textContent = `n${n}`;
      const sub = el("text", { x: x, y: y + 10, "text-anchor": "middle", class: "sub" }, g);
      sub.textContent = `term ${s.term}`;
      const vote = el("text", { x: x, y: y + 24, "text-anchor": "middle", class: "sub" }, g);
      vote.textContent = s.vote ? `vote n${s.vote}` : "no vote";
      const role = el("text", { x: x, y: y + BODY + 22, "text-anchor": "middle", class: "role" }, g);
      role.textContent = !s.up ? "CRASHED" : s.role === "Leader" ? "LEADER" : s.role === "Candidate" ? "candidate" : "follower";
      role.setAttribute("fill", !s.up ? "#9a1c1c" : s.role === "Leader" ? "#1b7f3b" : s.role === "Candidate" ? "#b86e00" : "#5d6673");
    }
    drawn = { messages: 0, drops: 0 };
    for (const m of st.flight) {
      const f = Math.min(1, Math.max(0, (shown - m.sent) / Math.max(1, m.at - m.sent)));
      const [x1, y1] = at(m.from), [x2, y2] = at(m.to);
      const dx = x2 - x1, dy = y2 - y1, len = Math.hypot(dx, dy);
      const side = (m.from < m.to ? 1 : -1) * 6; // each direction on its own side of the line
      const x = x1 + dx * f - (dy / len) * side, y = y1 + dy * f + (dx / len) * side;
      const reply = isReply(m.kind);
      el("circle", { cx: x, cy: y, r: m.kind === "InstallSnapshot" ? 8 : 6, class: "msg" + (reply ? " reply" : ""), fill: colour(m.kind), stroke: colour(m.kind) })
        .appendChild(document.createElementNS(SVG, "title")).textContent = `n${m.from} → n${m.to} ${m.text} (sent ${m.sent}, due ${m.at})`;
      drawn.messages++;
    }
    for (const d of st.drops) {
      if (shown - d.tick > 4 || d.tick > shown + 0.001) continue;
      const [x1, y1] = at(d.from), [x2, y2] = at(d.to);
      const f = d.atSend ? 0.3 : 0.75;
      const t = el("text", { x: x1 + (x2 - x1) * f, y: y1 + (y2 - y1) * f + 5, "text-anchor": "middle", class: "drop" });
      t.textContent = "✗";
      t.appendChild(document.createElementNS(SVG, "title")).textContent = `n${d.from} → n${d.to} dropped (${d.reason})`;
      drawn.drops++;
    }
  }
  function termColour(term) {
    return term === 0 ? "#eee" : `hsl(${(term * 67) % 360}, 65%, 78%)`;
  }
  function drawLogs() {
    let last = 0;
    for (let n = 1; n <= N; n++) last = Math.max(last, st.nodes[n].log.length, st.nodes[n].snapshot);
    const first = Math.max(1, last - 39);
    let html = "<tr><th></th>";
    for (let i = first; i <= last; i++) html += `<th>${i}</th>`;
    html += "</tr>";
    for (let n = 1; n <= N; n++) {
      const s = st.nodes[n];
      html += `<tr class="${s.up ? "" : "down"}" data-node="${n}"><th class="node">n${n}</th>`;
      for (let i = first; i <= last; i++) {
        const entry = s.log[i - 1];
        const boundary = s.snapshot > 0 && i === s.snapshot ? " boundary" : "";
        // Through the snapshot, a server holds no entries, only the snapshot (§7).
        if (i <= s.snapshot || (entry && entry[0] === 0)) html += `<td class="snap${boundary}" title="index ${i}: in the snapshot (§7)">▨</td>`;
        else if (!entry) html += `<td class="empty${boundary}"></td>`;
        else {
          const committed = i <= s.commit ? " committed" : "";
          html += `<td class="entry${committed}${boundary}" style="background:${termColour(entry[0])}" title="index ${i}, term ${entry[0]}: ${esc(entry[1])}${committed ? " (committed)" : ""}">${entry[0]}</td>`;
        }
      }
      html += "</tr>";
    }
    $("logs").innerHTML = html;
  }
  function draw() {
    advance(cursor);
    drawRing();
    drawLogs();
    const current = cursor >= 0 ? E[cursor] : null;
    const tick = run ? run.tick : 0;
    $("clock").textContent = follow && cursor === E.length - 1 ? `tick ${tick}` : `tick ${current ? current.tick : 0} · event ${cursor + 1}/${E.length}`;
    $("play").textContent = running ? "‖ pause" : "▶ play";
  }

  // ---- Talking to the server. ----

  function say(text, error) {
    $("said").textContent = text;
    $("said").className = error ? "error" : "";
  }
  async function send(input) {
    try {
      const response = await fetch("input", { method: "POST", body: JSON.stringify(input) });
      const answer = await response.json();
      if (answer.error) say(answer.error, true);
      else say(typeof answer.ok === "string" ? answer.ok : "done");
      return answer;
    } catch (err) {
      say("the server does not answer: " + err, true);
      return { error: String(err) };
    }
  }
  async function poll() {
    try {
      const url = `update?generation=${generation}&events=${E.length}&logs=${LOGS.length}`;
      const u = await (await fetch(url)).json();
      if (u.generation !== generation || u.events_from < E.length) {
        generation = u.generation; E = []; LOGS = []; st = blank(); cursor = -1; follow = true;
      }
      const atEnd = cursor === E.length - 1;
      for (const e of u.events) E.push(e);
      for (const c of u.logs) LOGS.push(c);
      run = u; running = u.running; speed = u.speed;
      if (pendingStep && E.length - 1 > cursor) { cursor++; pendingStep = false; }
      else if (follow && atEnd) cursor = E.length - 1;
      render();
    } catch (err) {
      say("the server does not answer (stopped?): " + err, true);
    }
    setTimeout(poll, 120);
  }
  function render() {
    $("title").textContent = `Raft live: five servers of ${run.title}, seed ${run.seed}`;
    $("failure").textContent = run.failure ? `✗ the run broke a rule, and the clock stopped: ${run.failure}. Save it: the trace page shows it; travel back to try again.` : "";
    $("actions").textContent = run.actions.length ? run.actions.join("\n") : "(none yet)";
    $("travel").max = run.furthest;
    if (!dragging) $("travel").value = cursor >= 0 ? E[cursor].tick : 0;
    $("request").disabled = !run.can.request;
    const net = run.network;
    if (document.activeElement !== $("loss")) $("loss").value = String(net.loss_percent);
    const delay = `${net.min_delay}..${net.max_delay}`;
    if (document.activeElement !== $("delay") && [...$("delay").options].some((o) => o.value === delay)) $("delay").value = delay;
    if (document.activeElement !== $("speed")) {
      $("speed").value = run.speed;
      $("speed-shown").textContent = run.speed;
    }
    $("timer-note").textContent = `Arcs: an election timer as the harness can see it: ticks since the server last heard from a leader, voted, or stood for election, against the range its timeout is drawn from, [${run.config.election_timeout}, ${2 * run.config.election_timeout}) ticks. The dark arc runs out at ${2 * run.config.election_timeout}; the timeout fires somewhere in the yellow band.`;
  }

  // ---- The loop that moves the messages between polls. ----

  let before = performance.now();
  function frame(now) {
    const dt = (now - before) / 1000;
    before = now;
    if (run) {
      const latest = follow && cursor === E.length - 1;
      if (latest && running) {
        shown = Math.min(run.tick, Math.max(run.tick - 2, shown + dt * speed));
      } else {
        shown = cursor >= 0 ? E[cursor].tick : 0;
      }
      draw();
    }
    requestAnimationFrame(frame);
  }

  // ---- Controls. ----

  let dragging = false;
  function leader() {
    for (let n = 1; n <= N; n++) if (st.nodes[n].up && st.nodes[n].role === "Leader") return n;
    return null;
  }
  $("play").addEventListener("click", () => send({ do: running ? "pause" : "play" }).then(() => { follow = true; cursor = E.length - 1; }));
  $("step").addEventListener("click", stepForward);
  $("back").addEventListener("click", () => { if (running) send({ do: "pause" }); follow = false; cursor = Math.max(-1, cursor - 1); });
  function stepForward() {
    if (running) send({ do: "pause" });
    if (cursor < E.length - 1) { cursor++; follow = cursor === E.length - 1; return; }
    pendingStep = true;
    send({ do: "step" });
  }
  $("speed").addEventListener("input", (e) => {
    $("speed-shown").textContent = e.target.value;
    send({ do: "speed", ticks_per_second: Number(e.target.value) });
  });
  $("travel").addEventListener("input", () => { dragging = true; });
  $("travel").addEventListener("change", (e) => {
    dragging = false;
    send({ do: "travel", tick: Number(e.target.value) });
  });
  $("save").addEventListener("click", async () => {
    const answer = await send({ do: "save" });
    if (answer.ok) {
      $("saved").value = `trace: ${answer.ok.trace}\npage:  ${answer.ok.page}\nreplay: ${answer.ok.replay}`;
      say("saved: the trace page opens the run; the command replays it");
    }
  });
  $("request").addEventListener("click", () => send({ do: "request" }));
  $("split").addEventListener("click", () => {
    const l = leader() || 1, buddy = l === 1 ? 2 : 1;
    const rest = [1, 2, 3, 4, 5].filter((n) => n !== l && n !== buddy);
    send({ do: "partition", groups: [[l, buddy], rest] });
  });
  $("isolate").addEventListener("change", (e) => {
    if (e.target.value) send({ do: "isolate", node: Number(e.target.value) });
    e.target.value = "";
  });
  $("heal").addEventListener("click", () => send({ do: "heal" }));
  function network() {
    const [low, high] = $("delay").value.split("..").map(Number);
    send({ do: "network", loss_percent: Number($("loss").value), min_delay: low, max_delay: high });
  }
  $("loss").addEventListener("change", network);
  $("delay").addEventListener("change", network);
  document.addEventListener("keydown", (e) => {
    if (e.target.tagName === "INPUT" || e.target.tagName === "TEXTAREA" || e.target.tagName === "SELECT") return;
    if (e.key === " ") { e.preventDefault(); $("play").click(); }
    if (e.key === "ArrowRight") stepForward();
    if (e.key === "ArrowLeft") $("back").click();
  });

  // What the browser test reads (tests/live_page.rs): the state drawn, as data.
  window.liveProbe = function () {
    const nodes = [];
    for (let n = 1; n <= N; n++) {
      const s = st.nodes[n];
      nodes.push({ up: s.up, role: s.role, term: s.term, commit: s.commit, log: s.log.length });
    }
    return JSON.stringify({
      errors: errors, tick: run ? run.tick : null, events: E.length, cursor: cursor, leader: leader(),
      nodes: nodes, messages: drawn.messages, drops: drawn.drops, failure: run ? run.failure : null,
      clock: $("clock").textContent, said: $("said").textContent, saved: $("saved").value, servers: ring.querySelectorAll(".server").length,
      timers: ring.querySelectorAll(".timer").length, logRows: $("logs").querySelectorAll("tr[data-node]").length,
    });
  };

  poll();
  requestAnimationFrame(frame);
})();

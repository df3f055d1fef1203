// Shared by the trace page (harness/src/reports/page.rs) and the live page (harness/src/runs/live): both
// inline it before their own script. The trace file's `logs` are changes ("from index `from`
// on, node `node`'s log is now `entries`"), each after event `event - 1`; this applies the
// ones due after event `i` to `st.nodes[n].log`, from `st.logAt` on.
"use strict";
window.applyLogChanges = function (st, LOGS, i) {
  while (LOGS && st.logAt < LOGS.length && LOGS[st.logAt].event <= i + 1) {
    const c = LOGS[st.logAt++];
    const log = st.nodes[c.node].log;
    if (log.length > c.from - 1) log.length = c.from - 1;
    // Entries the node only ever held inside a snapshot (§7): known by index only.
    while (log.length < c.from - 1) log.push([0, "(in a snapshot)"]);
    for (const entry of c.entries) log.push(entry);
  }
};

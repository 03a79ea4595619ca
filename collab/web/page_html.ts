/**
 * The dashboard's HTML shell: the panels' containers and the page's own styles. Everything in it
 * is filled by the bundled script (`browser/main.ts`), which reads `?session=S&token=T` from the
 * address.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>troupe dashboard</title>
<link rel="stylesheet" href="/dashboard.css">
<style>
:root { --bg:#0f1419; --panel:#171d24; --line:#2a323c; --text:#d8dee6; --dim:#8a96a3;
  --accent:#4fa3ff; --bad:#ff5d5d; --warn:#ffb347; --ok:#5ed17d; font: 13px system-ui, sans-serif; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--text); }
header { display:flex; flex-wrap:wrap; gap:6px 16px; align-items:center; padding:8px 14px;
  border-bottom:1px solid var(--line); position:sticky; top:0; z-index:5; background:var(--bg); }
header .status, #presence li { white-space:nowrap; }
header h1 { font-size:16px; margin:0; }
.status { color:var(--dim); }
.status b.up { color:var(--ok); } .status b.down { color:var(--bad); }
#presence { display:flex; gap:6px; list-style:none; margin:0 0 0 auto; padding:0; }
#presence li { padding:2px 8px; border-radius:10px; color:#000; font-weight:600; }
main { display:grid; grid-template-columns: 1fr 380px; gap:10px; padding:10px; }
#charts { display:grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap:10px;
  align-content:start; }
.card, aside section { background:var(--panel); border:1px solid var(--line); border-radius:6px;
  padding:8px; }
.card.focused { outline:2px solid var(--accent); }
#charts .card-slot { border:1px dashed var(--line); border-radius:6px; padding:8px;
  color:var(--dim); font-size:12px; overflow:hidden; }
.card h3, aside h2 { margin:0 0 6px; font-size:13px; display:flex; gap:8px; align-items:center; }
.card h3 .watchers { margin-left:auto; display:flex; gap:4px; }
.card h3 button.layout { padding:0 4px; font-size:11px; }
.card h3 .readout { color:var(--accent); font-weight:normal; font-variant-numeric:tabular-nums; }
.card h3 { white-space:nowrap; min-width:0; }
.card h3 > * { flex:none; }
.card h3 .quote { color:var(--dim); font-weight:normal; font-variant-numeric:tabular-nums;
  flex:0 1 auto; min-width:0; overflow:hidden; text-overflow:ellipsis; }
.card h3 .unit { color:var(--dim); font-weight:normal; }
.card h3 .unit:empty, .card .y-unit:empty { display:none; }
.card h3 input.unit-input { width:5em; font-size:11px; padding:0 2px; }
.card h3 input.unit-input.bad { border-color:var(--bad); }
.card .plot, .card .candles { position:relative; }
.card .chart-key { display:flex; flex-wrap:wrap; gap:2px 10px; margin:2px 0; font-size:10px;
  color:var(--dim); }
.card .chart-key i { display:inline-block; width:12px; height:2px; margin-right:3px;
  vertical-align:middle; }
.card .chart-key .key-band i { height:8px; } .card .chart-key .key-dot i { width:6px; height:6px;
  border-radius:50%; } .card .chart-key .key-rule i { width:2px; height:10px; }
.card .y-unit { position:absolute; left:2px; top:-8px; z-index:1; font-size:10px; color:var(--dim);
  pointer-events:none; }
.card h3 .watchers i { width:10px; height:10px; border-radius:50%; display:inline-block; }
aside { display:flex; flex-direction:column; gap:10px; }
aside section { max-height:420px; overflow:auto; }
table { border-collapse:collapse; width:100%; }
th, td { text-align:left; padding:2px 4px; border-bottom:1px solid var(--line); }
th { cursor:pointer; color:var(--dim); }
#events li { list-style:none; padding:3px 4px; border-bottom:1px solid var(--line);
  cursor:pointer; }
#events ul { margin:0; padding:0; }
#incidents ul { margin:0; padding:0; }
.card .incident-legend:not([hidden]) { display:flex; flex-wrap:wrap; gap:2px 10px; margin:2px 0;
  font-size:11px; overflow-wrap:anywhere; }
.card .data-where:not([hidden]) { margin:2px 0; font-size:11px; color:var(--warn); }
.card .history-horizon:not([hidden]) { margin:2px 0; font-size:11px; color:var(--dim); }
.card .history-failure:not([hidden]) { margin:2px 0; font-size:11px; overflow-wrap:anywhere; }
.incident-entry { color:#4fa3ff; } .incident-entry.kind-anomaly { color:#ff5d5d; }
.incident-entry.kind-collapse { color:#ffb347; } .incident-entry.focused { font-weight:bold; }
#incidents li { list-style:none; padding:3px 4px; border-bottom:1px solid var(--line);
  overflow-wrap:anywhere; }
#incidents li.incident { cursor:pointer; }
#incidents li .series { display:block; font-weight:bold; overflow-wrap:anywhere; }
#incidents li .series + .line { color:var(--dim); font-size:11px; }
#incidents ul.incident-list { max-height:220px; overflow:auto; }
#incidents .ack-note { display:flex; gap:4px; margin-top:2px; }
#incidents .ack-note input { flex:1; min-width:0; }
#incidents li.silenced { opacity:.55; }
#incidents h3 { font-size:12px; color:var(--dim); margin:6px 0 2px; }
#incidents input[aria-invalid=true] { border-color:var(--bad); }
.sev-5, .sev-4 { border-left:3px solid var(--bad); }
.sev-3 { border-left:3px solid var(--warn); }
.sev-2, .sev-1 { border-left:3px solid var(--dim); }
.gauge { display:flex; gap:8px; align-items:center; margin-bottom:6px; }
.gauge meter { width:120px; }
.gauge .state-fragmented, .gauge .state-locked { color:var(--warn); }
input, select, button { background:#0c1116; color:var(--text); border:1px solid var(--line);
  border-radius:4px; padding:3px 6px; font:inherit; }
button { cursor:pointer; }
button:disabled, input:disabled, select:disabled { opacity:.45; cursor:not-allowed; }
.row { display:flex; gap:4px; flex-wrap:wrap; margin-bottom:4px; }
.pending { color:var(--warn); }
.ok { color:var(--ok); }
.error { color:var(--bad); }
.differs { color:var(--warn); }
.readonly-note { color:var(--dim); font-style:italic; }
#thresholds table { table-layout:fixed; } #thresholds td, .error { overflow-wrap:anywhere; }
.range { margin:0; align-items:center; }
#charts .group-head { grid-column:1 / -1; display:flex; gap:10px; align-items:baseline;
  font-size:12px; color:var(--dim); border-bottom:1px solid var(--line); padding:4px 2px 2px; }
#charts .group-head .name { color:var(--text); font-weight:bold; overflow-wrap:anywhere; }
#charts .group-head.open .count { color:var(--bad); }
#channel-filter[aria-invalid=true] { border-color:var(--bad); }
.filter-error { font-size:11px; max-width:40ch; overflow-wrap:anywhere; }
.range-custom { display:inline-flex; gap:4px; align-items:center; white-space:nowrap; }
.range button[aria-pressed=true] { border-color:var(--accent); color:var(--accent); }
</style>
</head>
<body>
<header>
  <h1>troupe</h1>
  <span class="status" id="session-label"></span>
  <span class="status">collab <b id="collab-status" class="down">connecting</b></span>
  <span class="status">stream <b id="stream-status" class="down">connecting</b></span>
  <span id="range" class="row range" aria-label="time range"></span>
  <span id="layout" class="row range" aria-label="layout"></span>
  <span id="filter" class="row range" aria-label="filter"></span>
  <ul id="presence" aria-label="who is here"></ul>
</header>
<main>
  <div id="charts" aria-label="charts"></div>
  <aside>
    <section id="coherence"><h2>Coherence</h2><div id="gauges"></div></section>
    <section id="events"><h2>Events
      <select id="event-kind" aria-label="kind filter"><option value="">all kinds</option>
        <option>anomaly</option><option>collapse</option><option>coherence</option>
        <option value="dlq">dead letter</option><option>actor</option></select>
      <select id="event-severity" aria-label="severity filter">
        <option value="">any severity</option>
        <option value="3">3 and up</option><option value="4">4 and up</option>
        <option value="5">5</option></select>
    </h2><ul></ul></section>
    <section id="incidents"><h2>Incidents</h2><div class="editor"></div>
      <ul class="incident-list" aria-label="incidents"></ul>
      <h3>Silences</h3><ul class="silence-list" aria-label="silences"></ul></section>
    <section id="thresholds"><h2>Thresholds</h2><div class="editor"></div>
      <table><tbody></tbody></table></section>
    <section id="checklist"><h2>Checklist</h2><div class="editor"></div><ul></ul></section>
    <section id="annotations"><h2>Annotations</h2><div class="editor"></div><ul></ul></section>
    <section id="scan"><h2>Scan</h2><div class="editor"></div>
      <div id="scan-stats" class="status"></div>
      <table><thead></thead><tbody></tbody></table></section>
  </aside>
</main>
<script type="module" src="/dashboard.js"></script>
</body>
</html>
`;

/** The shell with `head` (the server's declared finding kinds) added at the end of its head. */
export function dashboardHtml(head: string): string {
  return DASHBOARD_HTML.replace("</head>", `${head}\n</head>`);
}

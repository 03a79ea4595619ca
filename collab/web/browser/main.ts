/// <reference lib="dom" />
/**
 * The dashboard page's entry (bundled by `../bundle.ts`): reads `?session=S&token=T` from the
 * address, joins the session's Yjs document (presence, thresholds, checklist, annotations) and
 * subscribes to the stream gateway (charts, gauges, events), and wires the panels together. It
 * exposes what it built as `window.troupe` for the browser tests and the bench.
 */
import { AnnotationsPanel } from "./annotations_panel.ts";
import { ChartGrid } from "./chart_grid.ts";
import { HistoryClient } from "./history_client.ts";
import { RangePicker } from "./range_picker.ts";
import { LayoutStore } from "./layout_store.ts";
import { LayoutControls } from "./layout_controls.ts";
import { ChecklistPanel } from "./checklist_panel.ts";
import { CoherencePanel } from "./coherence_panel.ts";
import { byId } from "./dom.ts";
import { EventsPanel } from "./events_panel.ts";
import { IncidentsPanel } from "./incidents_panel.ts";
import { FrameLoop } from "./frame_loop.ts";
import { LivePlot } from "./live_plot.ts";
import { LiveRouter } from "./live_router.ts";
import { LiveWorkerLink } from "./live_worker_link.ts";
import { PresencePanel } from "./presence_panel.ts";
import { ScanPanel } from "./scan_panel.ts";
import { connectSession, expired, pageParams } from "./session_link.ts";
import { SNAPSHOT_MESSAGES } from "./snapshot.ts";
import { ThresholdsPanel } from "./thresholds_panel.ts";
import { showRefused } from "./refused_notice.ts";
import { markReadOnly } from "./readonly_note.ts";
import { expiredMessage, freezeEditing, TOKEN_EXPIRED_CLOSE } from "./token_expiry.ts";
import { StreamClient, type StreamSocketConstructor } from "../../stream_client.ts";
import {
  areaPattern,
  outPattern,
  outPrefix,
  type StreamMsg,
  sysSubject,
} from "../../../protocol/mod.ts";

/**
 * What the dashboard subscribes to: the outputs it draws, dead letters, and of `troupe.sys` only
 * the actor notices its event list shows. Not the whole of `troupe.sys`: the collab nodes' own
 * anti-entropy digests and catch-up requests (lib0, not envelopes) came too, one about every 5 s
 * per loaded session, and each was counted undecodable (the one-off second "undecodable" seen in
 * dashboard_stream_browser).
 */
export const DASHBOARD_SUBJECTS: readonly string[] = [
  outPattern("anomaly"),
  outPattern("collapse"),
  outPattern("coherence"),
  outPattern("bars"),
  outPattern("incident"),
  areaPattern("dlq"),
  sysSubject("actor", "stopped"),
  sysSubject("actor", "restarted"),
];

/** The incident stage's updates go to the incidents panel, not the live router. */
const INCIDENT_PREFIX = outPrefix("incident");

/** Milliseconds each routed message took, kept for the bench (bounded like the frame times). */
const MESSAGE_TIMES_MAX = 8192;

function setStatus(id: string, up: boolean, text: string): void {
  const b = byId(id);
  b.textContent = text;
  b.className = up ? "up" : "down";
}

function start(): void {
  const params = pageParams(location.search);
  const loop = new FrameLoop();
  // The live charts draw on the page, or with `&render=worker` in a worker where the browser can
  // (their drawing and commit leave this thread, at a higher cost in all: live_worker.ts).
  const liveWorker =
    params.mode === "batched" && params.render === "worker" && LiveWorkerLink.available()
      ? new LiveWorkerLink()
      : undefined;
  // Once the token has expired, both links stay offline and their statuses say so (token_expiry.ts).
  // It runs from the links' events or at the end of start(), once `link` and `stream` exist.
  let expiredText: string | undefined;
  const expire = (reason?: string) => {
    if (expiredText !== undefined) return;
    expiredText = expiredMessage(link.expiresAtMs, {
      session: params.session,
      role: link.me.role,
      ...(reason ? { reason } : {}),
    });
    link.canWrite = false;
    link.provider.disconnect();
    stream?.close();
    setStatus("collab-status", false, expiredText);
    setStatus("stream-status", false, expiredText);
    freezeEditing(document);
    document.body.setAttribute("data-token-expired", "1");
  };
  const link = connectSession(params, {
    onStatus: (s) => {
      if (expiredText === undefined) setStatus("collab-status", s === "connected", s);
    },
    onExpired: () => expire(),
    onRefused: (reason) => void showRefused(reason),
  });
  byId("session-label").textContent =
    `session ${params.session} · ${link.me.name} (${link.me.role})`;
  let focused: string | undefined;
  const layoutStore = new LayoutStore(link, params.session);
  const layoutControls = new LayoutControls(byId("layout"), layoutStore, () => grid);
  // History goes over the stream socket once it exists and while it is open (below), else HTTP.
  const history = new HistoryClient(params.token);
  const grid: ChartGrid = new ChartGrid({
    decorate: (chart) => layoutControls.decorate(chart),
    loop,
    mode: params.mode,
    worker: liveWorker,
    history,
    onLook: (channel) => {
      focused = channel;
      presence.look(channel);
    },
  });
  new RangePicker(byId("range"), (range) => grid.showRange(range));
  const presence = new PresencePanel(link, grid);
  const events = new EventsPanel((channel, tMs) => {
    focused = channel;
    presence.look(channel);
    grid.focus(channel, tMs);
  });
  const coherence = new CoherencePanel(loop);
  const incidents = new IncidentsPanel(link, (channel, tMs) => {
    focused = channel;
    presence.look(channel);
    grid.focus(channel, tMs);
  });
  const router = new LiveRouter({ grid, events, coherence });
  const messageTimes: number[] = [], messageStarts: number[] = [];
  const route = (m: StreamMsg) => {
    if (m.subject.startsWith(INCIDENT_PREFIX)) incidents.take(m.data);
    else router.route(m.subject, m.data);
  };
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  let caughtUp = false;
  // A token expired already connects neither link (each attempt would be refused with 401).
  const stream = expired(link.expiresAtMs) ? undefined : new StreamClient({
    url: `${scheme}://${location.host}/stream`,
    token: params.token,
    // The DOM's send() is typed for ArrayBuffer-backed views only; the client sends exactly those.
    WebSocket: WebSocket as unknown as StreamSocketConstructor,
    onMessage: (m) => timeMessage(loop, messageTimes, messageStarts, route, m),
    // The bench and the tests wait for this before publishing what the page must see live.
    onSubscribed: () => document.body.setAttribute("data-stream-subscribed", "1"),
    // Before the page first caught up, a gap is the buffer's horizon, not something this page
    // missed: it starts from what the gateway holds (a fresh page is not told "23991 missed").
    onGap: (g) => {
      if (caughtUp) return setStatus("stream-status", true, `live (${g.missed} missed)`);
      byId("stream-status").title = `started from the gateway's buffer: ${g.missed} older ` +
        "messages are no longer kept";
    },
    onLive: () => {
      caughtUp = true;
      // Everything the page started from is drawn from here on (the tests wait for it).
      document.body.setAttribute("data-stream-live", "1");
    },
    onRefused: (_id, reason) => setStatus("stream-status", false, `refused: ${reason}`),
    onStatus: (status, detail) => {
      // Closed for an expired token, or refused (1006 here) after it expired: offline for good
      // (expire() closes the client, so that it does not reconnect).
      if (
        status === "closed" &&
        (detail?.code === TOKEN_EXPIRED_CLOSE || expired(link.expiresAtMs))
      ) {
        return expire(detail?.reason);
      }
      setStatus(
        "stream-status",
        status === "open",
        status === "open" ? "live" : `${status}${detail ? ` ${detail.code} ${detail.reason}` : ""}`,
      );
    },
  });
  history.useSocket(stream);
  // Everything the page shows, in one subscription (the client resumes it exactly). A fresh page
  // starts from a snapshot of recent state, the newest SNAPSHOT_MESSAGES of the gateway's buffer,
  // not the whole buffer replayed (24,000 messages took 16 s to drain, with old events on top);
  // `&backfill=0`: live only, what the bench uses.
  stream?.subscribe({
    subjects: [...DASHBOARD_SUBJECTS],
    slow: "gap",
    ...(params.backfill ? { since: 0, last: SNAPSHOT_MESSAGES } : {}),
  });
  // The session's dashboard panels lay the charts out (titles, order, width), live.
  const layout = () => grid.setPanels(layoutStore.panels());
  layoutStore.onChange(layout);
  layout();
  new ThresholdsPanel(link);
  new ChecklistPanel(link);
  new AnnotationsPanel(link, grid, () => focused);
  new ScanPanel(link, params);
  // Every other panel says it is read-only to a viewer too (the writing ones said so already).
  markReadOnly(document, link.me.role !== "viewer");
  if (expired(link.expiresAtMs)) expire();
  Object.assign(globalThis, {
    troupe: {
      params,
      link,
      grid,
      history,
      events,
      incidents,
      coherence,
      router,
      stream,
      loop,
      liveWorker,
      presence,
      messageTimes,
      messageStarts,
      // The class itself, so that tests can drive a live view directly.
      LivePlot,
    },
  });
}

/** Hands `m` to `route`, keeping its time for the bench (times, starts) and the frame loop. */
function timeMessage(
  loop: FrameLoop,
  times: number[],
  starts: number[],
  route: (m: StreamMsg) => void,
  m: StreamMsg,
): void {
  const t0 = performance.now();
  route(m);
  const ms = performance.now() - t0;
  times.push(ms);
  starts.push(t0);
  loop.charge(ms);
  if (times.length > MESSAGE_TIMES_MAX) {
    times.splice(0, MESSAGE_TIMES_MAX / 2);
    starts.splice(0, MESSAGE_TIMES_MAX / 2);
  }
}

try {
  start();
} catch (err) {
  document.body.prepend(Object.assign(document.createElement("pre"), {
    className: "error",
    textContent: (err as Error).message,
  }));
  throw err;
}

/// <reference lib="dom" />
/**
 * The dashboard page's entry (bundled by `../bundle.ts`): reads `?session=S&token=T` from the
 * address, joins the session's Yjs document (presence, thresholds, checklist, annotations) and
 * subscribes to the stream gateway (charts, gauges, events), and wires the panels together. It
 * exposes what it built as `window.troupe` for the browser tests and the bench.
 */
import {
  AnnotationsPanel,
  ChecklistPanel,
  CoherencePanel,
  EventsPanel,
  FilterBox,
  IncidentsPanel,
  LayoutControls,
  LayoutStore,
  markReadOnly,
  PresencePanel,
  RangePicker,
  ScanPanel,
  showRefused,
  ThresholdsPanel,
  UnitControls,
} from "./panels/mod.ts";
import { DECLARED_FINDINGS_ID, registerDeclaredFindings } from "../declared_findings.ts";
import { ChartGrid } from "./chart/mod.ts";
import {
  connectSession,
  connectStream,
  expired,
  followChannelLabels,
  HistoryClient,
  PageExpiry,
  type PageParams,
  pageParams,
  type SessionLink,
} from "./link/mod.ts";
import { openAtAddress, pageOpening } from "./page_opening.ts";
import { byId, setStatus } from "./dom.ts";
import { FrameLoop, LivePlot, LiveWorkerLink } from "./plot/mod.ts";
import { LiveRouter } from "./live_router.ts";
import { RouteSlicer } from "./route_slicer.ts";
import { ChannelIndex } from "./fleet/mod.ts";
import type { StreamClient } from "../../stream/mod.ts";
import { SNAPSHOT_MESSAGES } from "./snapshot.ts";
import {
  areaPattern,
  findingKinds,
  findingPattern,
  type Incident,
  outPattern,
  outPrefix,
  type StreamMsg,
  sysSubject,
} from "../../../protocol/mod.ts";

/**
 * What the dashboard subscribes to: the outputs it draws, dead letters, and of `troupe.sys` only
 * the actor notices its event list shows. Not the whole of `troupe.sys`: the collab nodes' own
 * anti-entropy digests (lib0, not envelopes; and catch-up requests, before they moved to
 * `troupe.req.`) came too, one about every 5 s per loaded session, and each was counted
 * undecodable (the one-off second "undecodable" seen in dashboard_stream_browser).
 */
export const DASHBOARD_SUBJECTS: readonly string[] = [
  outPattern("anomaly"),
  outPattern("collapse"),
  outPattern("coherence"),
  outPattern("bars"),
  outPattern("incident"),
  findingPattern("anomaly"),
  findingPattern("collapse"),
  findingPattern("coherence"),
  areaPattern("dlq"),
  sysSubject("actor", "stopped"),
  sysSubject("actor", "restarted"),
];

/**
 * DASHBOARD_SUBJECTS and the findings of the kinds the server declared in the page (a user's
 * kinds'), so they reach the event list.
 */
function dashboardSubjects(): string[] {
  return [...new Set([...DASHBOARD_SUBJECTS, ...pageFindings.map((t) => findingPattern(t))])];
}

/** The finding types the server declared in the page, registered at start. */
let pageFindings: string[] = [];

function registerPageFindings(): void {
  const el = document.getElementById(DECLARED_FINDINGS_ID);
  if (el?.textContent) registerDeclaredFindings(el.textContent);
  pageFindings = findingKinds().map((k) => k.type);
}

/** The incident stage's updates go to the incidents panel, not the live router. */
const INCIDENT_PREFIX = outPrefix("incident");

/** Milliseconds each routed message took, kept for the bench (bounded like the frame times). */
const MESSAGE_TIMES_MAX = 8192;

/** The charts and the panels that show the stream, and the channel the user last looked at. */
interface Views {
  grid: ChartGrid;
  history: HistoryClient;
  presence: PresencePanel;
  events: EventsPanel;
  coherence: CoherencePanel;
  incidents: IncidentsPanel;
  router: LiveRouter;
  /** Every channel's labels, score and open incidents: the grid's order and groups. */
  index: ChannelIndex;
  filter: FilterBox;
  focused(): string | undefined;
  /** Opens `channel` at `tMs`, at `incident` when given, as a click on it does. */
  open(channel: string, tMs: number, incident?: Incident): void;
}

function start(): void {
  registerPageFindings();
  const params = pageParams(location.search);
  const loop = new FrameLoop();
  // The live charts draw on the page, or with `&render=worker` in a worker where the browser can
  // (their drawing and commit leave this thread, at a higher cost in all: live_worker.ts).
  const liveWorker =
    params.mode === "batched" && params.render === "worker" && LiveWorkerLink.available()
      ? new LiveWorkerLink()
      : undefined;
  // Once the token has expired, both links stay offline and their statuses say so
  // (token_expiry.ts).
  const expiry = new PageExpiry(params.session);
  const expire = (reason?: string) => expiry.expire(reason);
  const link = connectSession(params, {
    onStatus: (s) => {
      if (!expiry.offline) setStatus("collab-status", s === "connected", s);
    },
    onExpired: () => expire(),
    onRefused: (reason) => void showRefused(reason),
  });
  expiry.link = link;
  byId("session-label").textContent =
    `session ${params.session} · ${link.me.name} (${link.me.role})`;
  const views = buildViews(params, link, loop, liveWorker);
  const { routing, messageTimes, messageStarts } = streamRouting(loop, views);
  // A token expired already connects neither link (each attempt would be refused with 401).
  const stream = expired(link.expiresAtMs) ? undefined : connectStream({
    token: params.token,
    onMessage: (m) => routing.take(m),
    expiresAtMs: () => link.expiresAtMs,
    expire,
    // The incidents that changed while the socket was closed: a restarted gateway's buffer holds
    // none of their updates, the collab server's log (seeded from the stage) holds them all.
    onReopen: () => loadIncidents(params, views),
  });
  expiry.stream = stream;
  // History goes over the stream socket once it exists and while it is open, else HTTP.
  views.history.useSocket(stream);
  if (stream) subscribeDashboard(stream, params, views);
  const opening = pageOpening(location.search);
  if (opening) openAtAddress(opening, (id) => views.incidents.get(id), views.open);
  new ThresholdsPanel(link);
  new ChecklistPanel(link);
  new AnnotationsPanel(link, views.grid, views.focused);
  new ScanPanel(link, params);
  // Every other panel says it is read-only to a viewer too (the writing ones said so already).
  markReadOnly(document, link.me.role !== "viewer");
  if (expired(link.expiresAtMs)) expire();
  if (!expired(link.expiresAtMs)) followLabels(params, views);
  const { grid, history, events, incidents, coherence, router, presence, index, filter } = views;
  Object.assign(globalThis, {
    troupe: {
      params,
      link,
      grid,
      index,
      filter,
      history,
      events,
      incidents,
      coherence,
      router,
      routing,
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

/**
 * Everything the page shows, in one subscription (the client resumes it exactly). A fresh page
 * starts from a snapshot of recent state, the newest SNAPSHOT_MESSAGES of the gateway's buffer,
 * not the whole buffer replayed (a full buffer took seconds to drain, with old events on top);
 * `&backfill=0`: live only, what the bench uses. Beside it, the incidents open now.
 */
function subscribeDashboard(stream: StreamClient, params: PageParams, views: Views): void {
  stream.subscribe({
    subjects: dashboardSubjects(),
    slow: "gap",
    ...(params.backfill ? { since: 0, last: SNAPSHOT_MESSAGES } : {}),
  });
  loadIncidents(params, views);
}

/**
 * The channel record, now and as it grows: the grid groups, orders and filters its cards by it,
 * the incident rows name their series by it.
 */
function followLabels(params: PageParams, views: Views): void {
  followChannelLabels(params.token, (list) => {
    views.index.setLabels(list);
    views.grid.reorder();
    views.filter.count();
    views.incidents.render();
    document.body.dataset.channelLabels = String(list.length);
  });
}

/** The incidents open now, whenever they opened: the collab server's log, not only the buffer. */
function loadIncidents(params: PageParams, views: Views): void {
  if (params.backfill) views.incidents.load(params.token).catch(console.warn);
}

/**
 * The chart grid (laid out by the session's dashboard panels, live), the range picker, and the
 * panels a user looks at a channel from (presence, events, incidents), with the router that hands
 * them the stream's messages.
 */
function buildViews(
  params: PageParams,
  link: SessionLink,
  loop: FrameLoop,
  liveWorker: LiveWorkerLink | undefined,
): Views {
  let focused: string | undefined;
  const look = (channel: string) => {
    focused = channel;
    presence.look(channel);
  };
  const open = (channel: string, tMs: number, incident?: Incident) => {
    look(channel);
    grid.focus(channel, tMs, incident);
  };
  const layoutStore = new LayoutStore(link, params.session);
  const layoutControls = new LayoutControls(byId("layout"), layoutStore, () => grid);
  const unitControls = new UnitControls(link);
  const history = new HistoryClient(params.token, params.historyTimeoutMs);
  const index = new ChannelIndex();
  const grid: ChartGrid = new ChartGrid({
    index,
    onOrder: () => filter.count(),
    decorate: (chart) => (layoutControls.decorate(chart), unitControls.decorate(chart)),
    loop,
    mode: params.mode,
    worker: liveWorker,
    history,
    onLook: look,
  });
  new RangePicker(byId("range"), (range) => grid.showRange(range));
  const presence = new PresencePanel(link, grid);
  const events = new EventsPanel(open);
  const coherence = new CoherencePanel(loop);
  const filter = new FilterBox(byId("filter"), grid);
  const incidents = new IncidentsPanel(link, {
    onFocus: open,
    onChange: (incident) => {
      grid.incidentChanged(incident);
      index.incident(incident);
      grid.reorder();
    },
    labels: (channel) => index.labels(channel),
  });
  const router = new LiveRouter({ grid, events, coherence, index });
  // The session's dashboard panels lay the charts out (titles, order, width), live.
  const layout = () => grid.setPanels(layoutStore.panels());
  layoutStore.onChange(layout);
  layout();
  const views = { grid, history, presence, events, coherence, incidents, router, index, filter };
  return { ...views, focused: () => focused, open };
}

/**
 * Where the stream's messages go (the incidents panel, or the live router), a frame's budget of
 * them at a time, the rest after the next frame, in order; each timed for the bench.
 */
function streamRouting(loop: FrameLoop, views: Views): {
  routing: RouteSlicer<StreamMsg>;
  messageTimes: number[];
  messageStarts: number[];
} {
  const messageTimes: number[] = [], messageStarts: number[] = [];
  const route = (m: StreamMsg) => {
    if (m.subject.startsWith(INCIDENT_PREFIX)) views.incidents.take(m.data);
    else views.router.route(m.subject, m.data);
  };
  const routing = new RouteSlicer<StreamMsg>((m) =>
    timeMessage(loop, messageTimes, messageStarts, route, m)
  );
  return { routing, messageTimes, messageStarts };
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

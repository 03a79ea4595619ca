/**
 * The incident kernel: a pure fold of findings into incidents. Findings arrive roughly in event
 * time (several actor instances publish them side by side); the kernel holds each until the
 * watermark (the latest event time seen less `reorder_us`) passes it, then takes the held ones in
 * event-time order (ties by kind, channel and id), so the incidents are a function of the findings,
 * not of how instances interleaved. A finding joins the open incident of its kind whose first is
 * within `group_window_us` of it, whatever its channel (a coherence episode going on aside), and
 * otherwise opens a new one, linked to the one its channel's findings were in: fewer findings
 * never make more incidents (`member_joins` keeps the older rule, for older recordings).
 * Each incident's lifecycle is its own xstate machine (incident_machine.ts), stepped by findings
 * and by the watermark. An incident's id is its kind, its first finding's time and channel; each
 * update's id adds its number, so replaying the same findings gives the same bytes.
 */
import { getInitialSnapshot, getNextSnapshot, type SnapshotFrom } from "xstate";
import {
  type Incident,
  INCIDENT_LINKS_MAX,
  INCIDENT_MEMBERS_MAX,
  type IncidentKind,
  type IncidentMember,
  type IncidentPeak,
  type IncidentState,
} from "../../protocol/mod.ts";
import type { IncidentConfig } from "./config.ts";
import { incidentMachine, type IncidentMachineEvent, quietFrom } from "./incident_machine.ts";

/** A finding as the kernel takes it. */
export interface IncidentFinding {
  /** The finding's envelope id. */
  id: string;
  kind: IncidentKind;
  channel: string;
  /** Event time, µs. */
  ts_us: number;
  /**
   * The moment the finding is about, µs, when it is before `ts_us`: a collapse is confirmed some
   * samples after its change began (its `changeTs`). Grouping and linking measure from it, so the
   * collapses of one crash confirmed seconds apart are one incident, and a jump's anomaly and
   * collapse are linked however long the collapse took to be sure. Default: `ts_us`.
   */
  at_us?: number;
  /** 1 to 5 (protocol/severity.ts). */
  severity: number;
  /**
   * Whether it may open an incident (default true). A coherence group's return to `normal` ends
   * an episode rather than starting one: it joins its group's open incident, or is passed over.
   */
  opens?: boolean;
  /**
   * Whether it starts an episode that goes on until a later finding of its channel ends it (a
   * coherence group turning coherent or fragmented; default false): its incident stays open
   * meanwhile, whatever `hold_us`.
   */
  ongoing?: boolean;
  /**
   * Whether it is no finding but the channel's stale marker (its series ended at its source):
   * ordered among the findings by its time (holdStale), it ends the channel's open incidents (a
   * grouped one once all its members are stale) and opens nothing.
   */
  stale?: boolean;
  /** What the finding saw (its measure, value and expected band), for its member's `peak`. */
  peak?: IncidentPeak;
}

/** The kind the kernel orders a stale marker under among findings. */
export const STALE_KIND = "stale";

/** One incident update to publish: the incident as it now is, its update number and time. */
export interface IncidentUpdate {
  incident: Incident;
  /** 0 for the update that opened it, then 1, 2, ... */
  n: number;
  /** Event time of the update, µs. */
  ts_us: number;
}

/** An open incident with its machine, as the kernel holds it. */
export interface OpenIncident {
  incident: Incident;
  snapshot: SnapshotFrom<typeof incidentMachine>;
  updates: number;
  /** The first finding's moment (at_us), µs: the grouping window counts from it. */
  first_at_us: number;
  /** Per member channel, the earliest moment of its findings, µs (a member spans it to last_us). */
  from_us: Map<string, number>;
}

/** Findings held for ordering, at most (beyond it the oldest are taken at once). */
export const HELD_FINDINGS_MAX = 65_536;

/**
 * Finding ids a kernel remembers, at most (the newest): an actor restarted from its journal
 * publishes again the findings of the inputs it applies again (input arrives at least once), with
 * the ids they had, and a finding the kernel took once must not count twice.
 */
export const RECENT_FINDING_IDS_MAX = 4096;

/**
 * The kernel's state: findings held for ordering, the open incidents, the watermark, the ids of
 * the findings taken last.
 */
export interface IncidentKernelState {
  config: IncidentConfig;
  held: IncidentFinding[];
  /** The last RECENT_FINDING_IDS_MAX findings' ids, oldest first (a Set keeps insertion order). */
  recent_ids: Set<string>;
  open: Map<string, OpenIncident>;
  /** Latest event time seen, µs. */
  latest_us: number;
  /** Event time up to which findings have been taken, µs. */
  watermark_us: number;
  /** Silence predicate: whether an incident is silenced now (see IncidentStage). */
  silenced: (incident: Incident) => boolean;
}

/** A new kernel state. */
export function initIncidents(
  config: IncidentConfig,
  silenced: (incident: Incident) => boolean = () => false,
): IncidentKernelState {
  return {
    config,
    held: [],
    recent_ids: new Set(),
    open: new Map(),
    latest_us: -Infinity,
    watermark_us: -Infinity,
    silenced,
  };
}

/** Whether the kernel has taken a finding of this id (among the last RECENT_FINDING_IDS_MAX). */
export function tookFinding(s: IncidentKernelState, id: string): boolean {
  return s.recent_ids.has(id);
}

/**
 * Takes one finding; returns the updates the findings it released made, in order. A finding whose
 * id it took already (an actor's again, after its restart) changes nothing.
 */
export function stepIncidents(s: IncidentKernelState, f: IncidentFinding): IncidentUpdate[] {
  if (s.recent_ids.has(f.id)) return [];
  s.recent_ids.add(f.id);
  if (s.recent_ids.size > RECENT_FINDING_IDS_MAX) {
    s.recent_ids.delete(s.recent_ids.values().next().value!);
  }
  s.held.push(f);
  s.latest_us = Math.max(s.latest_us, f.ts_us);
  return release(s, s.latest_us - s.config.reorder_us);
}

/**
 * Moves event time to `ts_us`, where the feeds' progress marks say every partition has reached
 * (progress_table.ts), as a finding of that time would move it: a lone finding is taken once the
 * feeds, not another finding, pass it by `reorder_us`. `settled` (every partition idle: all they
 * had is in) takes every finding held up to `ts_us`, without the reorder bound.
 */
export function progressIncidents(
  s: IncidentKernelState,
  ts_us: number,
  settled = false,
): IncidentUpdate[] {
  s.latest_us = Math.max(s.latest_us, ts_us);
  const upTo = s.latest_us - s.config.reorder_us;
  return release(s, settled ? Math.max(upTo, ts_us) : upTo);
}

/**
 * Takes a stale marker (`f.stale`): held among the findings until the watermark passes its time,
 * but, unlike a finding, it does not move event time (as a silence table's time does not), so
 * where it falls among the findings does not depend on when it arrived. One already behind the
 * watermark is taken at once.
 */
export function holdStale(s: IncidentKernelState, f: IncidentFinding): IncidentUpdate[] {
  s.held.push(f);
  return f.ts_us <= s.watermark_us ? release(s, s.watermark_us) : [];
}

/** Takes every finding held and advances event time to `ts_us` (the end of a feed). */
export function flushIncidents(s: IncidentKernelState, ts_us = s.latest_us): IncidentUpdate[] {
  return release(s, Math.max(ts_us, s.latest_us));
}

/**
 * Moves the watermark to `ts_us` (when it is ahead), taking the findings held up to it: the stage
 * brings the kernel to the event time a silence change takes effect at before applying it.
 */
export function advanceIncidents(s: IncidentKernelState, ts_us: number): IncidentUpdate[] {
  return ts_us > s.watermark_us ? release(s, ts_us) : [];
}

/** The open incidents (pending or firing), oldest first. */
export function openIncidents(s: IncidentKernelState): Incident[] {
  return [...s.open.values()].map((o) => o.incident);
}

/**
 * Re-judges every open incident's silence (a silence was added or removed); returns the updates.
 */
export function resilence(s: IncidentKernelState): IncidentUpdate[] {
  const out: IncidentUpdate[] = [];
  for (const o of s.open.values()) {
    const was = o.incident.silenced;
    o.incident.silenced = false;
    const now = s.silenced(o.incident);
    o.incident.silenced = now;
    if (now !== was) out.push(update(o, s.watermark_us));
  }
  return out;
}

function release(s: IncidentKernelState, upTo: number): IncidentUpdate[] {
  const out: IncidentUpdate[] = [];
  if (s.held.length > HELD_FINDINGS_MAX) upTo = Math.max(upTo, oldest(s.held));
  const due = s.held.filter((f) => f.ts_us <= upTo).sort(byEventTime);
  if (due.length > 0) s.held = s.held.filter((f) => f.ts_us > upTo);
  for (const f of due) {
    advance(s, f.ts_us, out);
    take(s, f, out);
  }
  advance(s, upTo, out);
  return out;
}

function oldest(held: IncidentFinding[]): number {
  let min = Infinity;
  for (const f of held) min = Math.min(min, f.ts_us);
  return min;
}

function byEventTime(a: IncidentFinding, b: IncidentFinding): number {
  return a.ts_us - b.ts_us || cmp(a.kind, b.kind) || cmp(a.channel, b.channel) || cmp(a.id, b.id);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Moves the watermark to `ts`: each open incident's machine sees the times its state may change at
 * (its `for` ending, its hold ending) that fall before `ts`, all in event-time order, then `ts`. So
 * an update is stamped with the time it happened, and how the watermark moved in steps does not
 * change the updates or their order.
 */
function advance(s: IncidentKernelState, ts: number, out: IncidentUpdate[]): void {
  if (!(ts > s.watermark_us)) return;
  const from = s.watermark_us;
  s.watermark_us = ts;
  const due: Array<{ at: number; o: OpenIncident }> = [];
  for (const o of s.open.values()) {
    // The machine's own first time: a late finding may move the incident's first_us earlier.
    const fires = o.snapshot.context.first_us + s.config.for_us;
    for (const at of [fires, quietFrom(o.snapshot.context)]) {
      if (at > from && at < ts) due.push({ at, o });
    }
  }
  due.sort((a, b) => a.at - b.at || cmp(a.o.incident.id, b.o.incident.id));
  for (const { at, o } of due) tick(s, o, at, out);
  for (const o of [...s.open.values()]) tick(s, o, ts, out);
}

function tick(s: IncidentKernelState, o: OpenIncident, ts: number, out: IncidentUpdate[]): void {
  if (o.incident.state === "resolved") return;
  if (send(o, { type: "time", ts })) out.push(update(o, ts));
  if (isResolved(o)) s.open.delete(o.incident.id);
}

function isResolved(o: OpenIncident): boolean {
  return o.incident.state === "resolved";
}

/** Sends `event` to the incident's machine; whether its state changed. */
function send(o: OpenIncident, event: IncidentMachineEvent): boolean {
  o.snapshot = getNextSnapshot(incidentMachine, o.snapshot, event);
  const state = o.snapshot.value as IncidentState;
  if (state === o.incident.state) return false;
  o.incident.state = state;
  o.incident.fired = o.snapshot.context.fired;
  return true;
}

function update(o: OpenIncident, ts_us: number): IncidentUpdate {
  const incident: Incident = {
    ...o.incident,
    members: o.incident.members.map((m) => m.peak ? { ...m, peak: { ...m.peak } } : { ...m }),
    links: [...o.incident.links],
  };
  return { incident, n: o.updates++, ts_us };
}

/** A released finding joins its incident or opens one, links across kinds, and is published. */
function take(s: IncidentKernelState, f: IncidentFinding, out: IncidentUpdate[]): void {
  if (f.stale) return endStale(s, f, out);
  const o = joinable(s, f);
  if (o === undefined) {
    if (f.opens === false) return;
    const opened = openIncident(s, f);
    linkContinued(s, opened, f, out);
    s.open.set(opened.incident.id, opened);
    link(s, opened, f, out);
    opened.incident.silenced = s.silenced(opened.incident);
    out.push(update(opened, f.ts_us));
    return;
  }
  join(s, o, f);
  linkContinued(s, o, f, out);
  spanFrom(o, f);
  send(o, {
    type: "finding",
    ts: f.ts_us,
    severity: f.severity,
    members: o.incident.members.length,
    channel: f.channel,
    ongoing: f.ongoing === true,
  });
  link(s, o, f, out);
  o.incident.silenced = s.silenced({ ...o.incident, silenced: false });
  out.push(update(o, f.ts_us));
}

/** The stale marker `f` ends its channel's open incidents (a grouped one's when all are gone). */
function endStale(s: IncidentKernelState, f: IncidentFinding, out: IncidentUpdate[]): void {
  for (const o of [...s.open.values()]) {
    const members = o.incident.members.map((m) => m.channel);
    if (!members.includes(f.channel)) continue;
    if (send(o, { type: "stale", ts: f.ts_us, channel: f.channel, members })) {
      out.push(update(o, f.ts_us));
    }
    if (isResolved(o)) s.open.delete(o.incident.id);
  }
}

/**
 * The open incident `f` belongs to: one of its kind whose episode on `f`'s channel goes on (a
 * coherence group's, which `f` continues or ends), or under `member_joins` its channel's, whatever
 * the window; else one of its kind whose first is within the window of `f`, whatever its channel.
 * A finding that opens nothing (a return to normal) joins its channel's newest, or none.
 */
function joinable(s: IncidentKernelState, f: IncidentFinding): OpenIncident | undefined {
  let inWindow: OpenIncident | undefined, ended: OpenIncident | undefined;
  for (const o of s.open.values()) {
    const i = o.incident;
    if (i.kind !== f.kind) continue;
    const member = i.members.some((m) => m.channel === f.channel);
    if (member && (s.config.member_joins || goesOn(o, f.channel))) return o;
    if (member && f.opens === false) ended = o; // the newest of its channel's, should none go on
    if (f.opens === false) continue;
    // Either side of the first: a finding later than the reorder bound may be the earlier one.
    if (!inWindow && Math.abs(atOf(f) - o.first_at_us) <= s.config.group_window_us) inWindow = o;
  }
  return ended ?? inWindow;
}

/** Whether an episode started by a finding of `channel` goes on in `o` (coherence's). */
function goesOn(o: OpenIncident, channel: string): boolean {
  return (o.snapshot.context.ongoing ?? []).includes(channel);
}

/** The moment `f` is about: its at_us when that is a time before its event time. */
function atOf(f: IncidentFinding): number {
  return f.at_us !== undefined && Number.isFinite(f.at_us) && f.at_us < f.ts_us ? f.at_us : f.ts_us;
}

/** Notes that `o`'s member `channel` spans from `f`'s moment. */
function spanFrom(o: OpenIncident, f: IncidentFinding): void {
  const from = o.from_us.get(f.channel);
  if (from === undefined || atOf(f) < from) o.from_us.set(f.channel, atOf(f));
}

function openIncident(s: IncidentKernelState, f: IncidentFinding): OpenIncident {
  const incident: Incident = {
    id: `${f.kind}-${f.ts_us}-${f.channel}`,
    kind: f.kind,
    state: "pending",
    fired: false,
    silenced: false,
    members: [withPeak(s, {
      channel: f.channel,
      first_us: f.ts_us,
      last_us: f.ts_us,
      findings: 1,
      peak_severity: f.severity,
    }, f)],
    first_us: f.ts_us,
    last_us: f.ts_us,
    first_finding: f.id,
    last_finding: f.id,
    findings: 1,
    peak_severity: f.severity,
    links: [],
  };
  const snapshot = getInitialSnapshot(incidentMachine, {
    config: s.config,
    ts: f.ts_us,
    severity: f.severity,
    channel: f.channel,
    ongoing: f.ongoing === true,
  });
  const o: OpenIncident = {
    incident,
    snapshot,
    updates: 0,
    first_at_us: atOf(f),
    from_us: new Map([[f.channel, atOf(f)]]),
  };
  send(o, { type: "time", ts: f.ts_us }); // a bar of 0 fires at once
  return o;
}

/**
 * `m` with `f`'s peak when the kernel carries peaks and `f` is stronger than its peak so far (the
 * first of equals stays, so the order findings of one time are taken in decides nothing new).
 */
function withPeak(s: IncidentKernelState, m: IncidentMember, f: IncidentFinding): IncidentMember {
  if (!s.config.member_peaks || f.peak === undefined || !Number.isFinite(f.peak.measure)) return m;
  if (m.peak === undefined || stronger(f.peak, m.peak)) m.peak = { ...f.peak };
  return m;
}

/** Whether `a` is the stronger finding: by the bits it states, else by its measure. */
function stronger(a: IncidentPeak, b: IncidentPeak): boolean {
  if (a.bits !== undefined && b.bits !== undefined && a.bits !== b.bits) return a.bits > b.bits;
  return a.measure > b.measure;
}

function join(s: IncidentKernelState, o: OpenIncident, f: IncidentFinding): void {
  const i = o.incident;
  let m = i.members.find((x) => x.channel === f.channel);
  if (!m && i.members.length < INCIDENT_MEMBERS_MAX) {
    m = { channel: f.channel, first_us: f.ts_us, last_us: f.ts_us, findings: 0, peak_severity: 1 };
    i.members.push(m);
  }
  if (m) {
    m.last_us = Math.max(m.last_us, f.ts_us);
    m.findings++;
    m.peak_severity = Math.max(m.peak_severity, f.severity);
    withPeak(s, m, f);
  }
  i.first_us = Math.min(i.first_us, f.ts_us); // a late finding may be the earliest
  i.last_us = Math.max(i.last_us, f.ts_us);
  i.last_finding = f.id;
  i.findings++;
  i.peak_severity = Math.max(i.peak_severity, f.severity);
}

/**
 * Links `o` and the open incidents of other kinds with `f`'s channel near `f`'s time: the finding
 * spans its moment to its event time, a member its earliest moment to its last finding, and they
 * are near when the two spans come within `link_window_us` of each other.
 */
function link(s: IncidentKernelState, o: OpenIncident, f: IncidentFinding, out: IncidentUpdate[]) {
  const from = atOf(f);
  for (const other of s.open.values()) {
    const j = other.incident;
    if (j.kind === f.kind || o.incident.links.includes(j.id)) continue;
    const near = j.members.some((m) => {
      if (m.channel !== f.channel) return false;
      const mFrom = other.from_us.get(m.channel) ?? m.first_us;
      return Math.max(from, mFrom) - Math.min(f.ts_us, m.last_us) <= s.config.link_window_us;
    });
    if (!near) continue;
    if (o.incident.links.length < INCIDENT_LINKS_MAX) o.incident.links.push(j.id);
    if (!j.links.includes(o.incident.id) && j.links.length < INCIDENT_LINKS_MAX) {
      j.links.push(o.incident.id);
      out.push(update(other, f.ts_us));
    }
  }
}

/**
 * Links `o`, which `f` opened or joined, and the open incident of its kind that `f` continues (the
 * newest other with `f`'s channel among its members): a lasting fault gives one incident per
 * grouping window, linked in a chain.
 */
function linkContinued(
  s: IncidentKernelState,
  o: OpenIncident,
  f: IncidentFinding,
  out: IncidentUpdate[],
): void {
  let prev: OpenIncident | undefined;
  for (const p of s.open.values()) {
    const i = p.incident;
    if (p !== o && i.kind === f.kind && i.members.some((m) => m.channel === f.channel)) prev = p;
  }
  if (prev === undefined || o.incident.links.includes(prev.incident.id)) return;
  if (o.incident.links.length < INCIDENT_LINKS_MAX) o.incident.links.push(prev.incident.id);
  if (prev.incident.links.length < INCIDENT_LINKS_MAX) {
    prev.incident.links.push(o.incident.id);
    out.push(update(prev, f.ts_us));
  }
}

/**
 * The incident stage: the incident kernel fed by the findings the actors publish, its updates
 * published on `troupe.out.incident.<kind>`. It is a stage after the actors, not an actor of its
 * own: its input is the actors' findings, which are outputs of journaled inputs and so already
 * exactly reproducible, and its state is their fold. Live, one stage runs per cluster (`troupe up`
 * starts it beside the host); a replay runs one over the replayed findings, so `troupe replay
 * --verify` compares the incidents as it compares every other output. It needs no clock: time is
 * the findings' event time and the feeds' progress, which the hosts' progress marks carry
 * (progress_table.ts), taken, journaled and recorded as the findings are; with live feeds, a
 * finding further than `ahead_us_max` past the hosts' wall clock (as their marks carry it) is taken
 * there. Its other input is control on `troupe.req.incidents.control`: a session's silence table,
 * taken into force when the watermark passes the time it carries (silence_table.ts), so a replay
 * marks the same updates silenced, and journaled among the findings where the stage is journaled,
 * so a restarted or taken-over stage marks them as the live one did; and an ack's check, answered
 * (an incident it does not hold is refused), which changes nothing in the fold.
 */
import {
  type Bus,
  type BusMessage,
  type BusSubscription,
  checkedFindingBody,
  decodeEnvelope,
  decodeIncidentControl,
  decodeProgressMark,
  encodeIncident,
  encodeIncidentControlAnswer,
  encodeIncidentList,
  findingFacts,
  findingKindOf,
  findingKinds,
  findingPattern,
  findingPeak,
  type Incident,
  type IncidentControlAnswer,
  incidentControlSubject,
  type IncidentKind,
  incidentListSubject,
  incidentStaleSubject,
  incidentSubject,
  isProgressMark,
  PROGRESS_PATTERN,
  type ProgressMark,
  ProtocolError,
} from "../../protocol/mod.ts";
import { deadLetterOf, publishDeadLetter } from "../runtime/mod.ts";
import type { IncidentConfig } from "./config.ts";
import {
  advanceIncidents,
  flushIncidents,
  holdStale,
  type IncidentFinding,
  type IncidentKernelState,
  type IncidentUpdate,
  initIncidents,
  openIncidents,
  progressIncidents,
  resilence,
  STALE_KIND,
  stepIncidents,
  tookFinding,
} from "./incident_kernel.ts";
import { SilenceTable } from "./silence_table.ts";
import { ProgressTable } from "./progress_table.ts";
import {
  type IncidentCounts,
  restoreIncidentKernel,
  type SavedIncidentStage,
  saveIncidentKernel,
} from "./incident_snapshot.ts";

/** A control message as decodeIncidentControl gives it. */
export type DecodedIncidentControl = ReturnType<typeof decodeIncidentControl>;

/**
 * The session's silence table (or a receiver's stale channels) a journal record holds, or
 * undefined for a finding, another message or one that does not decode (it was checked before
 * it was journaled).
 */
export function journaledSilencesOf(data: Uint8Array): DecodedIncidentControl | undefined {
  try {
    const decoded = decodeIncidentControl(data);
    return decoded.control.type !== "ack" ? decoded : undefined;
  } catch {
    return undefined;
  }
}

/** The envelope `src` of incident updates. */
export const INCIDENT_SRC = "incidents";

/**
 * The finding an actor's event envelope carries, or undefined for data, other messages and
 * events whose body does not decode (readIncidentFinding says why).
 */
export function incidentFindingOf(data: Uint8Array): IncidentFinding | undefined {
  try {
    return readIncidentFinding(data);
  } catch {
    return undefined;
  }
}

/**
 * The finding an actor's event envelope carries, or undefined for data and other messages; an
 * event of a finding's kind whose body is bad throws the ProtocolError naming its field and value.
 */
export function readIncidentFinding(data: Uint8Array): IncidentFinding | undefined {
  let env;
  try {
    env = decodeEnvelope(data);
  } catch {
    return undefined; // not an event of ours: the host that took it names bad messages
  }
  if (findingKindOf(env.type) === undefined) return undefined;
  const event = incidentEventOf(env.type, env.body);
  return findingOfEvent({ id: env.id, ts_us: env.ts }, event);
}

/** An event of a kind that opens incidents, with its body as its kind of finding reads it. */
export interface IncidentEvent {
  kind: string;
  body: Record<string, unknown>;
}

/**
 * The event of `kind` whose body is `body`, checked as the registered kind of finding declares
 * (its `check`, its channel and measure); a ProtocolError otherwise.
 */
export function incidentEventOf(kind: IncidentKind, body: unknown): IncidentEvent {
  const spec = findingKindOf(kind);
  if (spec === undefined) {
    throw new ProtocolError("value", `Cannot read a ${kind} finding: no kind declares it`);
  }
  return { kind, body: checkedFindingBody(spec, body) };
}

/**
 * The kernel's finding of an event of `kind` with `body`: its severity on the kind's scale,
 * whether it may open an incident (an episode's return to its quiet value may not), whether it
 * starts an episode that holds its incident open (a group turning coherent or fragmented), and the
 * moment it is about (a collapse's change time): each as the kind of finding declares.
 */
export function findingOfEvent(
  head: Omit<IncidentFinding, "severity" | "opens" | "ongoing" | "kind" | "channel"> & {
    channel?: string;
  },
  event: IncidentEvent,
): IncidentFinding {
  const spec = findingKindOf(event.kind);
  if (spec === undefined) {
    throw new ProtocolError("value", `Cannot read a ${event.kind} finding: no kind declares it`);
  }
  const facts = findingFacts(spec, event.body);
  const f: IncidentFinding = {
    ...head,
    channel: facts.channel,
    kind: event.kind,
    severity: facts.severity,
  };
  if (facts.quiet === true || facts.restates === true) f.opens = false;
  else if (facts.quiet === false) f.ongoing = true;
  if (facts.at_us !== undefined) f.at_us = facts.at_us;
  f.peak = findingPeak(spec, event.body);
  return f;
}

/** The bytes of an incident update, with its deterministic envelope id. */
export function encodeIncidentUpdate(u: IncidentUpdate): { subject: string; data: Uint8Array } {
  return {
    subject: incidentSubject(u.incident.kind),
    data: encodeIncident(
      {
        id: `${u.incident.id}:${u.n}`,
        src: INCIDENT_SRC,
        ts: u.ts_us,
        cause: u.incident.last_finding,
      },
      u.incident,
    ),
  };
}

/** What a stage is given. */
export interface IncidentStageOptions {
  config: IncidentConfig;
  /** Where each update goes (a bus publish, a replay's output collector). */
  publish: (subject: string, data: Uint8Array) => void;
  /**
   * Whether an incident is silenced besides the sessions' silences the stage is sent on
   * `troupe.req.incidents.control`; none by default.
   */
  silenced?: (incident: Incident) => boolean;
}

/** Resolved incidents a stage keeps to list, at most (the newest). */
export const RESOLVED_KEPT_MAX = 256;

/** The kernel with its publishing: fed findings' bytes, it publishes the updates they make. */
export class IncidentStage {
  readonly #state: IncidentKernelState;
  readonly #publish: IncidentStageOptions["publish"];
  readonly #counts = new Map<string, IncidentCounts>();
  readonly #wasFiring = new Set<string>();
  readonly #resolved = new Map<string, Incident>();
  readonly #silences = new SilenceTable();
  readonly #progress: ProgressTable;
  readonly #watchers = new Set<(incident: Incident) => void>();

  constructor(options: IncidentStageOptions) {
    this.#progress = new ProgressTable(options.config.source_silent_us);
    const other = options.silenced ?? (() => false);
    this.#state = initIncidents(
      options.config,
      (i) => other(i) || this.#silences.silenced(i, this.#state.watermark_us),
    );
    this.#publish = options.publish;
  }

  /**
   * Hands `watcher` each incident update the stage makes from now on, as the value it encodes
   * and publishes (the alert sender beside it takes these, not its own process's bytes back);
   * returns what stops it. A refold's updates too, which publish nothing: watch a running stage.
   */
  watch(watcher: (incident: Incident) => void): () => void {
    this.#watchers.add(watcher);
    return () => this.#watchers.delete(watcher);
  }

  /** A message on `troupe.finding.<kind>.<key>`: a finding is taken, anything else passed over. */
  take(data: Uint8Array): void {
    const f = incidentFindingOf(data);
    if (f) this.takeFinding(f);
  }

  /** Whether it has taken a finding of this id lately (one it would pass over). */
  took(id: string): boolean {
    return tookFinding(this.#state, id);
  }

  /** A finding already decoded (incidentFindingOf). */
  takeFinding(f: IncidentFinding): void {
    if (this.took(f.id)) return; // not even its time moves the silences
    // Far ahead of live feeds' wall clock (none known, or not live: no bound): taken at the bound.
    const bound = this.#progress.liveWallUs() + this.#state.config.ahead_us_max;
    if (f.ts_us > bound && Number.isFinite(bound)) f = { ...f, ts_us: bound };
    this.#silencesDue(Math.max(this.#state.latest_us, f.ts_us) - this.#state.config.reorder_us);
    this.#emit(stepIncidents(this.#state, f));
  }

  /**
   * A source's progress mark (decodeProgressMark), sent at its wall time `wall_us`: event time
   * moves to where every partition still taking inputs has reached (progress_table.ts).
   */
  takeProgress(src: string, wall_us: number, mark: ProgressMark): void {
    this.#progress.take(src, wall_us, mark);
    const { us, settled } = this.#progress.progress();
    if (!(us > -Infinity)) return;
    const latest = Math.max(this.#state.latest_us, us);
    const reorder = this.#state.config.reorder_us;
    this.#silencesDue(settled ? Math.max(us, latest - reorder) : latest - reorder);
    this.#emit(progressIncidents(this.#state, us, settled));
  }

  /**
   * A record of the stage's journal: a finding, a source's progress mark, or a session's silence
   * table (or channels gone stale) journaled among them (journaledSilencesOf); anything else is
   * passed over. Which of them it was (stale channels count as "silences": control journaled
   * among the findings).
   */
  takeRecord(data: Uint8Array): "finding" | "progress" | "silences" | undefined {
    const f = incidentFindingOf(data);
    if (f) {
      this.takeFinding(f);
      return "finding";
    }
    if (isProgressMark(data)) {
      try {
        const { envelope, mark } = decodeProgressMark(data);
        this.takeProgress(envelope.src, envelope.ts, mark);
        return "progress";
      } catch {
        return undefined; // checked before it was journaled; a bad one was never taken
      }
    }
    const silences = journaledSilencesOf(data);
    if (!silences) return undefined;
    this.controlDecoded(silences);
    return "silences";
  }

  /** Takes the findings held for ordering (the end of a replay or a feed). */
  flush(ts_us?: number): void {
    this.#silencesDue(Math.max(ts_us ?? -Infinity, this.#state.latest_us));
    this.#emit(flushIncidents(this.#state, ts_us));
  }

  /**
   * A message on `troupe.req.incidents.control`: a session's silence table is held until the
   * watermark passes its envelope's time; an ack's check is answered. Throws a ProtocolError naming
   * the field and value of a malformed message.
   */
  control(data: Uint8Array): IncidentControlAnswer {
    return this.controlDecoded(decodeIncidentControl(data));
  }

  /**
   * A control message already decoded (decodeIncidentControl); with `hold` false a silence table
   * is answered but not held (a leased stage holds it when it reads it back from its journal).
   */
  controlDecoded(decoded: DecodedIncidentControl, hold = true): IncidentControlAnswer {
    const { envelope, control } = decoded;
    if (control.type === "silences") {
      if (hold) this.#silences.hold(envelope.ts, control.session, control.silences);
      return {
        ok: true,
        detail: `${control.silences.length} silence(s) of session ${control.session}, in force ` +
          `from event time ${new Date(envelope.ts / 1000).toISOString()}`,
      };
    }
    if (control.type === "stale") {
      if (hold) this.#takeStale(envelope.id, envelope.ts, control.channels);
      return {
        ok: true,
        detail: `${control.channels.length} channel(s) stale from ${control.session} at event ` +
          `time ${new Date(envelope.ts / 1000).toISOString()}`,
      };
    }
    const incident = this.list().find((i) => i.id === control.incident);
    if (!incident) {
      return {
        ok: false,
        detail: `Unknown incident "${control.incident}": the incident stage holds ` +
          `${this.list().length} (open, and the last ${RESOLVED_KEPT_MAX} resolved)`,
      };
    }
    return {
      ok: true,
      detail:
        `acknowledged ${incident.id} (${incident.state}, ${incident.members.length} member(s))`,
    };
  }

  /**
   * Channels' stale markers, taken in event-time order among the findings once the watermark
   * (which the findings move) passes their time.
   */
  #takeStale(id: string, ts_us: number, channels: readonly string[]): void {
    for (const channel of channels) {
      const f = { id: `${id}/${channel}`, kind: STALE_KIND, channel, ts_us, severity: 1 };
      this.#emit(holdStale(this.#state, { ...f, opens: false, stale: true }));
    }
  }

  /** The silences changed: open incidents are marked (or unmarked) silenced. */
  silencesChanged(): void {
    this.#emit(resilence(this.#state));
  }

  /** Open incidents, oldest first. */
  open(): Incident[] {
    return openIncidents(this.#state);
  }

  /** The open incidents and the last RESOLVED_KEPT_MAX resolved ones, oldest first by start. */
  list(): Incident[] {
    return [...this.#resolved.values(), ...this.open()].sort((a, b) =>
      a.first_us - b.first_us || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
    );
  }

  /** Per kind, incidents opened, fired and resolved since the stage started. */
  counts(): ReadonlyMap<string, IncidentCounts> {
    return this.#counts;
  }

  /** Its state, for a snapshot (incident_snapshot.ts), the sessions' silences with it. */
  saved(): SavedIncidentStage {
    return {
      ...saveIncidentKernel(this.#state),
      silences: this.#silences.saved(),
      progress: this.#progress.saved(),
      resolved: [...this.#resolved.values()],
      counts: [...this.#counts].map(([kind, c]) => [kind, { ...c }]),
      firing: [...this.#wasFiring],
    };
  }

  /** Takes a saved state in place of its own (before it takes anything); publishes nothing. */
  restore(saved: SavedIncidentStage): void {
    restoreIncidentKernel(this.#state, saved);
    this.#resolved.clear();
    for (const i of saved.resolved) this.#resolved.set(i.id, i);
    this.#counts.clear();
    for (const [kind, c] of saved.counts) this.#counts.set(kind, { ...c });
    this.#wasFiring.clear();
    for (const id of saved.firing) this.#wasFiring.add(id);
    this.#silences.restore(saved.silences);
    this.#progress.restore(saved.progress);
  }

  /** Takes the silence changes due by event time `upTo` into force, each at its own time. */
  #silencesDue(upTo: number): void {
    while (this.#silences.nextUs() <= upTo || this.#silences.overfull()) {
      this.#emit(advanceIncidents(this.#state, this.#silences.nextUs()));
      this.#silences.applyNext();
      this.#emit(resilence(this.#state));
    }
  }

  #count(kind: string): IncidentCounts {
    let c = this.#counts.get(kind);
    if (!c) this.#counts.set(kind, c = { opened: 0, fired: 0, resolved: 0 });
    return c;
  }

  #emit(updates: IncidentUpdate[]): void {
    for (const u of updates) {
      const i = u.incident;
      if (u.n === 0) this.#count(i.kind).opened++;
      if (i.state === "firing" && !this.#wasFiring.has(i.id)) {
        this.#wasFiring.add(i.id);
        this.#count(i.kind).fired++;
      }
      if (i.state === "resolved") {
        this.#wasFiring.delete(i.id);
        this.#count(i.kind).resolved++;
        this.#resolved.set(i.id, i);
        if (this.#resolved.size > RESOLVED_KEPT_MAX) {
          this.#resolved.delete(this.#resolved.keys().next().value!);
        }
      }
      const { subject, data } = encodeIncidentUpdate(u);
      this.#publish(subject, data);
      for (const watcher of this.#watchers) watcher(i);
    }
  }
}

/**
 * Feeds the hosts' progress marks on `bus` to `stage`; a mark that does not decode is
 * dead-lettered, naming its field and value.
 */
function takeProgressMarks(bus: Bus, stage: IncidentStage): BusSubscription {
  let bad = 0;
  return bus.subscribe(PROGRESS_PATTERN, (m) => {
    let decoded;
    try {
      decoded = decodeProgressMark(m.data);
    } catch (err) {
      const meta = { id: `${INCIDENT_SRC}:dlq:progress:${++bad}`, src: INCIDENT_SRC };
      publishDeadLetter(bus, deadLetterOf(m, err, INCIDENT_SRC), {
        ...meta,
        ts: Date.now() * 1000,
      });
      return;
    }
    stage.takeProgress(decoded.envelope.src, decoded.envelope.ts, decoded.mark);
  });
}

/**
 * What takes the stage's control messages and answers them; `staleOnly`: the stale subject's,
 * where a receiver may send stale notices and nothing else.
 */
function controlAnswerer(
  bus: Bus,
  stage: IncidentStage,
  recordSilences: ((data: Uint8Array, decoded: DecodedIncidentControl) => boolean) | undefined,
): (m: BusMessage, staleOnly: boolean) => void {
  let controls = 0;
  return (m, staleOnly) => {
    const meta = {
      id: `${INCIDENT_SRC}:ctl:${++controls}`,
      src: INCIDENT_SRC,
      ts: Date.now() * 1000,
    };
    let answer: IncidentControlAnswer;
    try {
      const decoded = decodeIncidentControl(m.data);
      if (staleOnly && decoded.control.type !== "stale") {
        throw new ProtocolError(
          "value",
          `Control on "${m.subject}" must be of type "stale", got "${decoded.control.type}" ` +
            `(acks and silences go on "${incidentControlSubject()}")`,
          { field: "type", value: decoded.control.type },
        );
      }
      const later = decoded.control.type !== "ack" && recordSilences?.(m.data, decoded) === true;
      answer = stage.controlDecoded(decoded, !later);
    } catch (err) {
      publishDeadLetter(bus, deadLetterOf(m, err, INCIDENT_SRC), { ...meta, id: `${meta.id}:dlq` });
      answer = { ok: false, detail: (err as Error).message };
    }
    if (m.reply) bus.publish(m.reply, encodeIncidentControlAnswer(meta, answer));
  };
}

/**
 * Runs a stage on `bus`: the actors' findings in, the incident updates out, and an answer on
 * `troupe.req.incidents.list` with the incidents it holds (`troupe incidents`).
 */
export function runIncidentStage(
  bus: Bus,
  options: Omit<IncidentStageOptions, "publish"> & {
    /** A stage already built (one rebuilt from its journal, durable_incident_stage.ts). */
    stage?: IncidentStage;
    /**
     * Called with a session's silence table (or a receiver's stale channels), checked, before
     * the stage holds it (to journal it among the findings); when it returns true the stage does
     * not hold it now but when it reads it back from its journal (the leased stage's stream), in
     * order among the findings.
     */
    recordSilences?: (data: Uint8Array, decoded: DecodedIncidentControl) => boolean;
    /** Whether it takes the findings from the bus (default); false: the caller feeds it. */
    findings?: boolean;
  },
): { stage: IncidentStage; stop: () => void } {
  const stage = options.stage ??
    new IncidentStage({ ...options, publish: (s, d) => bus.publish(s, d) });
  let answers = 0, badBodies = 0;
  const kinds = options.findings === false ? [] : findingKinds().map((k) => k.type);
  const subs: BusSubscription[] = kinds.map((kind) =>
    bus.subscribe(findingPattern(kind), (m) => {
      let f: IncidentFinding | undefined;
      try {
        f = readIncidentFinding(m.data);
      } catch (err) {
        const meta = { id: `${INCIDENT_SRC}:dlq:${++badBodies}`, src: INCIDENT_SRC };
        publishDeadLetter(bus, deadLetterOf(m, err, INCIDENT_SRC), {
          ...meta,
          ts: Date.now() * 1000,
        });
        return;
      }
      if (f) stage.takeFinding(f); // one taken already (an actor's again) changes nothing
    })
  );
  if (options.findings !== false) subs.push(takeProgressMarks(bus, stage));
  subs.push(bus.subscribe(incidentListSubject(), (m) => {
    if (!m.reply) return;
    const ts = stage.list().reduce((t, i) => Math.max(t, i.last_us), 0);
    const meta = { id: `${INCIDENT_SRC}:list:${++answers}`, src: INCIDENT_SRC, ts };
    bus.publish(m.reply, encodeIncidentList(meta, stage.list()));
  }));
  const control = controlAnswerer(bus, stage, options.recordSilences);
  subs.push(bus.subscribe(incidentControlSubject(), (m) => control(m, false)));
  // A receiver's stale notices come on a subject of their own: its NATS user may send nothing else.
  subs.push(bus.subscribe(incidentStaleSubject(), (m) => control(m, true)));
  return {
    stage,
    stop: () => {
      for (const s of subs) s.unsubscribe();
    },
  };
}

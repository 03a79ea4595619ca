/**
 * A what-if comparison of two runs' outputs (`troupe replay --config ... --verify`): per kind and
 * key instead of by position, so that a changed threshold reports the incidents it added and
 * removed rather than thousands of outputs "different" from the one at the same place. Per-sample
 * outputs (columns frames) are compared per key as whole series (a count and a hash of each column,
 * framing apart); events are matched per key by type and time: an event of the one run without a
 * match in the other appeared or disappeared, one whose body differs changed.
 */
import {
  actorEventOf,
  anomalyColumnsAsEdges,
  anomalyOf,
  decodeColumns,
  decodeEnvelope,
  type Envelope,
  eventHeadline,
  parseSubject,
} from "../../protocol/mod.ts";

/** An event the other run did not have. */
export interface Incident {
  kind: string;
  key: string;
  type: string;
  /** The event's time, microseconds since the epoch. */
  ts: number;
  /** The channel (or group) the event names; the key when it names none. */
  channel: string;
  /** Its strength where the kind gives one: `score`, `severity`, or a coherence `shift`. */
  score: number | undefined;
  /** The coherence state it turned to, where it has one. */
  state: string | undefined;
}

/** One kind's comparison. */
export interface KindDiff {
  kind: string;
  /** Keys with per-sample outputs in either run; those equal in both; those that changed. */
  seriesKeys: number;
  seriesSame: number;
  seriesChanged: string[];
  /** Events in each run, and those matched with an equal body. */
  eventsRecorded: number;
  eventsReplayed: number;
  eventsSame: number;
  /** Matched by type and time but with a different body. */
  eventsChanged: number;
  appeared: Incident[];
  disappeared: Incident[];
}

/** The comparison of every kind, by name. */
export interface OutputDiffReport {
  /** True when nothing differs. */
  same: boolean;
  kinds: KindDiff[];
}

interface Series {
  samples: number;
  /** Per column name: a running 64-bit hash (two 32-bit FNV-1a lanes) of its values in order. */
  hashes: Map<string, [number, number]>;
}

interface Event {
  type: string;
  ts: number;
  body: unknown;
  text: string;
  /**
   * Its text without a field added to its body since (the anomaly event's `view`), when it has
   * one: an event recorded before the field compares equal to a replayed one equal but for it.
   */
  older: string | undefined;
}

interface Side {
  series: Series | undefined;
  events: Event[];
}

interface KeyState {
  kind: string;
  key: string;
  sides: [Side, Side];
}

const RECORDED = 0, REPLAYED = 1;

/** Collects both runs' outputs, then compares them per kind and key (see the module comment). */
export class OutputDiff {
  #keys = new Map<string, KeyState>();

  /** An output of the recorded run. */
  recorded(subject: string, data: Uint8Array): void {
    this.#add(RECORDED, subject, data);
  }

  /** An output of the replayed run. */
  replayed(subject: string, data: Uint8Array): void {
    this.#add(REPLAYED, subject, data);
  }

  #add(side: 0 | 1, subject: string, data: Uint8Array): void {
    const parsed = parseSubject(subject);
    if (parsed.kind !== "out") return;
    let state = this.#keys.get(subject);
    if (!state) {
      state = {
        kind: parsed.actor,
        key: parsed.key,
        sides: [{ series: undefined, events: [] }, { series: undefined, events: [] }],
      };
      this.#keys.set(subject, state);
    }
    const envelope = decodeEnvelope(data);
    const s = state.sides[side];
    if (envelope.type === "columns") {
      const { frame } = decodeColumns(data);
      s.series ??= { samples: 0, hashes: new Map() };
      addToSeries(s.series, "t", frame.t);
      // The anomaly band in one form whichever a run sent (a recording of the older form holds
      // its edges, today's actor sends its half-width): compared as edges, bit for bit.
      const columns = state.kind === "anomaly"
        ? anomalyColumnsAsEdges(frame.columns)
        : frame.columns;
      for (const [name, column] of Object.entries(columns)) {
        addToSeries(s.series, name, column);
      }
      s.series.samples += frame.t.length;
    } else {
      const body = currentBody(envelope);
      const { type, ts } = envelope, text = stableJson(body);
      s.events.push({ type, ts, body, text, older: olderText(envelope) });
    }
  }

  /** The comparison, kinds by name; `run` lists kinds to report even if neither run had outputs. */
  finish(run: readonly string[] = []): OutputDiffReport {
    const kinds = new Map<string, KindDiff>();
    for (const kind of run) kinds.set(kind, emptyDiff(kind));
    for (const state of [...this.#keys.values()].sort((a, b) => compareKeys(a, b))) {
      let d = kinds.get(state.kind);
      if (!d) {
        d = emptyDiff(state.kind);
        kinds.set(state.kind, d);
      }
      compareSeries(state, d);
      compareEvents(state, d);
    }
    const list = [...kinds.values()].sort((a, b) => (a.kind < b.kind ? -1 : 1));
    const same = list.every((d) =>
      d.seriesChanged.length === 0 && d.eventsChanged === 0 && d.appeared.length === 0 &&
      d.disappeared.length === 0
    );
    return { same, kinds: list };
  }
}

function emptyDiff(kind: string): KindDiff {
  return {
    kind,
    seriesKeys: 0,
    seriesSame: 0,
    seriesChanged: [],
    eventsRecorded: 0,
    eventsReplayed: 0,
    eventsSame: 0,
    eventsChanged: 0,
    appeared: [],
    disappeared: [],
  };
}

function compareKeys(a: KeyState, b: KeyState): number {
  if (a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

function addToSeries(series: Series, name: string, values: Float64Array): void {
  let h = series.hashes.get(name);
  if (!h) {
    h = [0x811c9dc5, 0x01000193 ^ 0x5bd1e995];
    series.hashes.set(name, h);
  }
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  let a = h[0], b = h[1];
  for (let i = 0; i < bytes.length; i++) {
    a = Math.imul(a ^ bytes[i]!, 0x01000193);
    b = Math.imul(b ^ bytes[i]!, 0x01000193 + 2 * 0x9e37);
  }
  h[0] = a;
  h[1] = b;
}

function sameSeries(a: Series | undefined, b: Series | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.samples !== b.samples || a.hashes.size !== b.hashes.size) return false;
  for (const [name, h] of a.hashes) {
    const g = b.hashes.get(name);
    if (!g || g[0] !== h[0] || g[1] !== h[1]) return false;
  }
  return true;
}

function compareSeries(state: KeyState, d: KindDiff): void {
  const [rec, rep] = state.sides;
  if (!rec.series && !rep.series) return;
  d.seriesKeys++;
  if (sameSeries(rec.series, rep.series)) d.seriesSame++;
  else d.seriesChanged.push(state.key);
}

function compareEvents(state: KeyState, d: KindDiff): void {
  const [rec, rep] = state.sides;
  d.eventsRecorded += rec.events.length;
  d.eventsReplayed += rep.events.length;
  // Match by type and time, in order: the n-th recorded event of a (type, ts) with the n-th
  // replayed.
  const waiting = new Map<string, Event[]>();
  for (const e of rep.events) {
    const at = `${e.type}@${e.ts}`;
    const list = waiting.get(at);
    if (list) list.push(e);
    else waiting.set(at, [e]);
  }
  for (const e of rec.events) {
    const other = waiting.get(`${e.type}@${e.ts}`)?.shift();
    if (!other) d.disappeared.push(incident(state, e));
    else if (other.text === e.text || sameBeforeField(e, other)) d.eventsSame++;
    else d.eventsChanged++;
  }
  for (const list of waiting.values()) {
    for (const e of list) d.appeared.push(incident(state, e));
  }
  d.appeared.sort((a, b) => a.ts - b.ts);
  d.disappeared.sort((a, b) => a.ts - b.ts);
}

/**
 * An event's body in the current format (a recording made before a body was renamed compares
 * equal to a replay of it); as it came when its type has no decoder or it does not decode.
 */
function currentBody(env: Envelope): unknown {
  try {
    return actorEventOf(env)?.body ?? env.body;
  } catch {
    return env.body;
  }
}

function incident(state: KeyState, e: Event): Incident {
  let head: ReturnType<typeof eventHeadline> | undefined;
  try {
    const event = actorEventOf({ v: 1, id: "", src: "", type: e.type, ts: e.ts, body: e.body });
    if (event) head = eventHeadline(event);
  } catch {
    head = undefined; // a body that does not decode still appeared or disappeared
  }
  return {
    kind: state.kind,
    key: state.key,
    type: e.type,
    ts: e.ts,
    channel: head?.channel ?? state.key,
    score: head?.score,
    state: head?.state,
  };
}

/** The text of an anomaly event's body without its `view`, or undefined when it has none. */
function olderText(env: Envelope): string | undefined {
  if (env.type !== "anomaly") return undefined;
  try {
    const { view, ...older } = anomalyOf(env);
    return view === undefined ? undefined : stableJson(older);
  } catch {
    return undefined;
  }
}

/** Whether one event lacks a field added since and is the other without it. */
function sameBeforeField(a: Event, b: Event): boolean {
  return (a.older === undefined && b.older === a.text) ||
    (b.older === undefined && a.older === b.text);
}

/** JSON with object keys sorted, so that equal bodies give equal text. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (v === null || typeof v !== "object" || Array.isArray(v) || ArrayBuffer.isView(v)) return v;
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort());
  });
}

/**
 * The simulator's framing invariant: a per-channel actor's per-sample outputs and events
 * do not depend on how its samples were framed. A stream's journal (its configuration, then its
 * frames) is folded through two fresh instances: one in the frames as journaled, one in the same
 * samples cut again into frames whose sizes cycle through `FRAME_SIZES`; their columns and their
 * events (type, time, body; envelope ids apart) must be the same. The journal's first frames, up
 * to `FRAMING_SAMPLES_MAX` samples, are checked. A journal holding anything but
 * frames after its configuration (a control message, a skipped input) is not checked: where those
 * fall among the samples is the framing's to say. A frame whose envelope id an earlier one had (a
 * copy, which the instance passes over: the checked frames are fewer than its window of ids) adds
 * no samples.
 */
import {
  ActorInstance,
  type AnyActorDefinition,
  type JournalRecord,
  type Output,
} from "../actors/runtime/mod.ts";
import {
  decodeColumns,
  decodeEnvelope,
  decodeFrame,
  decodeInputRecord,
  encodeFrame,
  type InputRecord,
  type SampleFrame,
} from "../protocol/mod.ts";
import { canonicalJson } from "./_value_diff.ts";

/** A stream's first frames up to this many samples are checked: bounds the check's cost. */
export const FRAMING_SAMPLES_MAX = 10_000;

/** The sizes the samples are cut into again, in turn. */
export const FRAME_SIZES: readonly number[] = [1, 7, 100, 500, 4096];

interface Collected {
  events: string[];
  columns: Map<string, number[]>;
}

/**
 * What differs between `records` (a stream's whole journal) folded as journaled and re-framed, or
 * undefined when nothing does or the journal is not one this checks (see the module comment).
 */
export function checkFraming(
  def: AnyActorDefinition,
  key: string,
  records: readonly JournalRecord[],
): string | undefined {
  const inputs = records.map((r) => decodeInputRecord(r.data));
  const [init, ...rest] = inputs;
  if (init?.kind !== "init" || rest.some((r) => r.kind !== "frame")) return undefined;
  const config = decodeEnvelope(init.payload).body;
  const frames: SampleFrame[] = [];
  const ids = new Set<string>();
  let samples = 0;
  for (const r of rest) {
    const { envelope, frame } = decodeFrame(r.payload);
    // A copy of a frame checked already (the same id) is passed over by the instance: not samples.
    if (ids.has(envelope.id)) continue;
    ids.add(envelope.id);
    if (frames.length > 0 && samples + frame.v.length > FRAMING_SAMPLES_MAX) break;
    frames.push(frame);
    samples += frame.v.length;
  }
  const channel = frames[0]?.channel;
  if (channel === undefined || frames.some((f) => f.channel !== channel)) return undefined;
  // Only a per-channel kind: its instance of a channel is keyed by the channel (not a group's).
  const routes = def.route(channel, config);
  if (key !== channel || routes.length !== 1 || routes[0] !== channel) return undefined;
  const journaled = fold(def, key, config, frames);
  const reframed = fold(def, key, config, reframe(frames));
  return difference(journaled, reframed);
}

/** The same samples in frames whose sizes cycle through FRAME_SIZES. */
function reframe(frames: readonly SampleFrame[]): SampleFrame[] {
  const n = frames.reduce((a, f) => a + f.v.length, 0);
  const t = new Float64Array(n), v = new Float64Array(n);
  let at = 0;
  for (const f of frames) {
    t.set(f.t, at);
    v.set(f.v, at);
    at += f.v.length;
  }
  const out: SampleFrame[] = [];
  const channel = frames[0]!.channel;
  for (let i = 0, k = 0; i < n; k++) {
    const end = Math.min(n, i + FRAME_SIZES[k % FRAME_SIZES.length]!);
    out.push({ channel, seq0: i, t: t.subarray(i, end), v: v.subarray(i, end) });
    i = end;
  }
  return out;
}

function fold(
  def: AnyActorDefinition,
  key: string,
  config: unknown,
  frames: readonly SampleFrame[],
): Collected {
  const inst = ActorInstance.create(def, key, config);
  const out: Collected = { events: [], columns: new Map() };
  frames.forEach((frame, k) => {
    const payload = encodeFrame(frame, { id: `framing-${k}`, src: "framing-check" });
    const record: InputRecord = { kind: "frame", srcPos: k + 1, subject: "", payload };
    for (const o of inst.apply(record, k + 2)) collect(o, out);
  });
  inst.stop();
  return out;
}

function collect(o: Output, out: Collected): void {
  const env = decodeEnvelope(o.data);
  if (env.type !== "columns") {
    out.events.push(`${env.type} ${env.ts} ${canonicalJson(env.body)}`);
    return;
  }
  const { frame } = decodeColumns(o.data);
  for (const [name, col] of [["t", frame.t] as const, ...Object.entries(frame.columns)]) {
    let list = out.columns.get(name);
    if (!list) out.columns.set(name, list = []);
    for (const x of col) list.push(x);
  }
}

function difference(a: Collected, b: Collected): string | undefined {
  for (const [name, col] of a.columns) {
    const other = b.columns.get(name) ?? [];
    const n = Math.max(col.length, other.length);
    for (let i = 0; i < n; i++) {
      if (!Object.is(col[i], other[i])) {
        return `column ${name}, sample ${i}: ${col[i]} as journaled, ${other[i]} re-framed`;
      }
    }
  }
  if (b.columns.size > a.columns.size) return "re-framed, it publishes columns it did not";
  const n = Math.max(a.events.length, b.events.length);
  for (let i = 0; i < n; i++) {
    if (a.events[i] !== b.events[i]) {
      return `event ${i}: ${a.events[i] ?? "none"} as journaled, ${
        b.events[i] ?? "none"
      } re-framed`;
    }
  }
  return undefined;
}

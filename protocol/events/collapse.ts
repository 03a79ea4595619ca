/**
 * The collapse event: what the collapse actor publishes on `troupe.out.collapse.<channel>` for
 * each change point it confirms. The envelope's `ts` is when the change was confirmed; the body
 * says when the new regime began, how late it was seen, the level and spread before and after, the
 * direction and the shift in spreads (`severity`).
 *
 * Body format 2 names its fields in snake_case like the rest of the wire. Format 1, the older
 * one, used camelCase (`changeTs`, `meanBefore`, ...): recordings made then still carry it,
 * so `decodeCollapseBody` reads both, telling them apart by `changeTs`, and `encodeCollapse` of a
 * decoded format-1 body gives the bytes a host publishes today (replay --verify compares with
 * them).
 */
import { encodeEventEnvelope, type Envelope, type EnvelopeInit } from "../envelope.ts";
import { BodyReader } from "./_body_reader.ts";
import { requireEventType } from "./_event_type.ts";

/** The envelope type of a collapse event. */
export const COLLAPSE_TYPE = "collapse";

/** The directions of a change. */
export const COLLAPSE_DIRECTIONS = ["up", "down"] as const;

/** The body of a collapse event (format 2). */
export interface CollapseBody {
  channel: string;
  /** When the new regime began (µs since the epoch), and the index of its first sample. */
  change_ts: number;
  change_index: number;
  /** Samples from the change to its confirmation. */
  delay_samples: number;
  /** The regimes' means. */
  mean_before: number;
  mean_after: number;
  /** The level just before the change and the new regime's so far (direction compares these). */
  level_before: number;
  level_after: number;
  spread_before: number;
  spread_after: number;
  direction: (typeof COLLAPSE_DIRECTIONS)[number];
  /** The shift in spreads: |Δmean| / spread before + |log2 spread ratio|. */
  severity: number;
}

/** A collapse event as a machine emits it: the body with its type and time (µs). */
export type CollapseEvent = { type: typeof COLLAPSE_TYPE; ts: number } & CollapseBody;

/** Format 1's name of each format-2 field it named otherwise. */
export const COLLAPSE_FORMAT1_NAMES: Readonly<Partial<Record<keyof CollapseBody, string>>> = {
  change_ts: "changeTs",
  change_index: "changeIndex",
  delay_samples: "delaySamples",
  mean_before: "meanBefore",
  mean_after: "meanAfter",
  level_before: "levelBefore",
  level_after: "levelAfter",
  spread_before: "spreadBefore",
  spread_after: "spreadAfter",
};

/** The event a machine emits, its fields in wire order. */
export function collapseEvent(ts: number, b: CollapseBody): CollapseEvent {
  return {
    type: COLLAPSE_TYPE,
    ts,
    channel: b.channel,
    change_ts: b.change_ts,
    change_index: b.change_index,
    delay_samples: b.delay_samples,
    mean_before: b.mean_before,
    mean_after: b.mean_after,
    level_before: b.level_before,
    level_after: b.level_after,
    spread_before: b.spread_before,
    spread_after: b.spread_after,
    direction: b.direction,
    severity: b.severity,
  };
}

/** Encodes a collapse event's envelope (format 2): the bytes a host publishes. */
export function encodeCollapse(
  meta: Omit<EnvelopeInit, "type" | "body">,
  b: CollapseBody,
): Uint8Array {
  return encodeEventEnvelope({ ...meta, type: COLLAPSE_TYPE }, collapseEvent(meta.ts, b));
}

/** The body format of a collapse body: 1 (camelCase, the older form) or 2. */
export function collapseBodyFormat(body: unknown): 1 | 2 {
  return body !== null && typeof body === "object" &&
      (body as Record<string, unknown>).changeTs !== undefined
    ? 1
    : 2;
}

/**
 * Reads a collapse body of either format, checking every field (a ProtocolError names the field,
 * under the name its format gives it, and the value).
 */
export function decodeCollapseBody(body: unknown, where = "collapse event"): CollapseBody {
  const r = new BodyReader(body, where);
  const format1 = collapseBodyFormat(body) === 1;
  const n = (f: keyof CollapseBody) => (format1 ? COLLAPSE_FORMAT1_NAMES[f] ?? f : f);
  return {
    channel: r.name("channel"),
    change_ts: r.int(n("change_ts")),
    change_index: r.count(n("change_index")),
    delay_samples: r.count(n("delay_samples")),
    mean_before: r.num(n("mean_before")),
    mean_after: r.num(n("mean_after")),
    // Format 1 before the levels were added carried the regimes' means alone: they stand in.
    level_before: r.num(n(format1 && !r.has("levelBefore") ? "mean_before" : "level_before")),
    level_after: r.num(n(format1 && !r.has("levelAfter") ? "mean_after" : "level_after")),
    spread_before: r.num(n("spread_before")),
    spread_after: r.num(n("spread_after")),
    direction: r.oneOf("direction", COLLAPSE_DIRECTIONS),
    severity: r.num("severity"),
  };
}

/** The body of a collapse envelope (a ProtocolError if it is another type or a bad body). */
export function collapseOf(env: Envelope): CollapseBody {
  requireEventType(env, COLLAPSE_TYPE);
  return decodeCollapseBody(env.body);
}

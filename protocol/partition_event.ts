/**
 * What a host announces on `troupe.sys.partition.<what>` when a partition's ownership changes:
 * `claimed` (a free partition, or one its owner released), `taken` (a partition whose owner's
 * lease expired: a takeover), `released` (handed off: flushed, snapshotted, let go) and `lost`
 * (a lease that could not be renewed in time: the host stopped writing it at once).
 */
import { decodeEnvelope, encodeEnvelope } from "./envelope.ts";
import { describeValue, ProtocolError } from "./protocol_error.ts";
import { isValidName, sysSubject } from "./subjects.ts";

/** The ownership changes announced. */
export const PARTITION_EVENTS = ["claimed", "taken", "released", "lost"] as const;

/** An ownership change. */
export type PartitionEventKind = typeof PARTITION_EVENTS[number];

/** An ownership change of one partition, as announced. */
export interface PartitionEvent {
  what: PartitionEventKind;
  partition: number;
  /** The host announcing it (the new owner, or the one that let go). */
  host: string;
  epoch: number;
  /** Why, in words (`"lease of host-2 expired"`, `"SIGTERM"`, `"rebalance to host-4"`). */
  reason: string;
  /** Wall clock of the change, microseconds since the Unix epoch. */
  ts: number;
}

/** `troupe.sys.partition.<what>`: where ownership changes are announced. */
export function partitionEventSubject(what: PartitionEventKind | "*"): string {
  return what === "*" ? `${sysSubject("partition")}.*` : sysSubject("partition", what);
}

/** Encodes an ownership change as an envelope of type `partition.<what>`. */
export function encodePartitionEvent(ev: PartitionEvent): Uint8Array {
  return encodeEnvelope({
    id: `${ev.host}-p${ev.partition}-e${ev.epoch}-${ev.what}`,
    type: `partition.${ev.what}`,
    src: ev.host,
    ts: ev.ts,
    body: { partition: ev.partition, epoch: ev.epoch, reason: ev.reason },
  });
}

/** Decodes an ownership change; throws a ProtocolError naming the field and the value. */
export function decodePartitionEvent(bytes: Uint8Array): PartitionEvent {
  const env = decodeEnvelope(bytes);
  const what = env.type.startsWith("partition.") ? env.type.slice("partition.".length) : "";
  if (!(PARTITION_EVENTS as readonly string[]).includes(what)) {
    throw new ProtocolError(
      "value",
      `Cannot decode a partition event: field "type" must be partition.${
        PARTITION_EVENTS.join("|")
      }, got ${describeValue(env.type)}`,
      { field: "type", value: env.type },
    );
  }
  const b = env.body as Record<string, unknown> | null;
  const field = (name: string, ok: (v: unknown) => boolean, want: string) => {
    const v = b?.[name];
    if (!ok(v)) {
      throw new ProtocolError(
        "field",
        `Cannot decode a partition event: field "body.${name}" must be ${want}, got ${
          describeValue(v)
        }`,
        { field: `body.${name}`, value: v },
      );
    }
    return v;
  };
  const int = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  if (!isValidName(env.src)) {
    throw new ProtocolError(
      "value",
      `Cannot decode a partition event: field "src" must be a host id, got ${
        describeValue(env.src)
      }`,
      { field: "src", value: env.src },
    );
  }
  return {
    what: what as PartitionEventKind,
    partition: field("partition", int, "an integer >= 0") as number,
    host: env.src,
    epoch: field("epoch", int, "an integer >= 0") as number,
    reason: field("reason", (v) => typeof v === "string", "a string") as string,
    ts: env.ts,
  };
}

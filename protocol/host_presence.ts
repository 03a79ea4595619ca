/**
 * A host's presence in a cluster that shares partitions by lease: the key `host.<id>` of the
 * bucket `troupe_leases`, renewed with the host's leases, so it vanishes with them when the host
 * dies. The live hosts are the keys present; each computes the same even share from that list.
 */
import { decodeVersionedMap, encodeValue } from "./envelope.ts";
import { describeValue, ProtocolError } from "./protocol_error.ts";
import { isValidName } from "./subjects.ts";

/** The presence encoding's version. */
export const HOST_PRESENCE_VERSION = 1;

/** A live host. */
export interface HostPresence {
  host: string;
  /** When the host joined, ms since the Unix epoch. */
  startedMs: number;
  /** The host's wall clock at its last heartbeat, ms since the Unix epoch. */
  renewedMs: number;
  /** The port of its /healthz and /metrics, when it serves them. */
  httpPort?: number;
}

/** Encodes a presence as one msgpack map `{ v, host, started_ms, renewed_ms, http_port? }`. */
export function encodeHostPresence(p: HostPresence): Uint8Array {
  checkPresence(p, "host presence");
  return encodeValue({
    v: HOST_PRESENCE_VERSION,
    host: p.host,
    started_ms: p.startedMs,
    renewed_ms: p.renewedMs,
    ...(p.httpPort === undefined ? {} : { http_port: p.httpPort }),
  });
}

/** Decodes a presence; throws a ProtocolError naming the field and the value. */
export function decodeHostPresence(bytes: Uint8Array, where = "host presence"): HostPresence {
  const o = decodeVersionedMap(bytes, where, HOST_PRESENCE_VERSION);
  const p: HostPresence = {
    host: o.host as string,
    startedMs: o.started_ms as number,
    renewedMs: o.renewed_ms as number,
    ...(o.http_port === undefined ? {} : { httpPort: o.http_port as number }),
  };
  checkPresence(p, where);
  return p;
}

function checkPresence(p: HostPresence, where: string): void {
  const bad = (field: string, want: string, value: unknown) =>
    new ProtocolError(
      "value",
      `Invalid ${where}: field "${field}" must be ${want}, got ${describeValue(value)}`,
      { field, value },
    );
  if (!isValidName(p.host)) throw bad("host", "a host id (A-Z a-z 0-9 _ -)", p.host);
  if (!Number.isFinite(p.startedMs)) throw bad("started_ms", "a number", p.startedMs);
  if (!Number.isFinite(p.renewedMs)) throw bad("renewed_ms", "a number", p.renewedMs);
  if (p.httpPort !== undefined && (!Number.isInteger(p.httpPort) || p.httpPort < 0)) {
    throw bad("http_port", "a port number", p.httpPort);
  }
}

/**
 * A state capture: what a recorder started mid-session asks of every host (on
 * `troupe.sys.snapshots.ask`, gathered with a request that keeps every answer) so that its
 * recording carries the actors' state at its start. Each host answers with the snapshots of its
 * instances, each taken once the inputs the host had received before the ask are applied (so an
 * input the recorder missed is in the snapshot, and one it recorded and the snapshot holds is
 * told apart by the instance's window of applied ids), and with each kind's configuration, which
 * instances made later start from. A host's answer comes in parts (a NATS message is bounded),
 * each part a list of instances; `part` and `parts` let the asker tell a whole answer. A host that
 * is one of several answering each for its own instances (a threaded host's threads, a leased
 * cluster's partition hosts) names them all in the header `CONTROL_ANSWERERS_HEADER` of each part,
 * so that the asker waits for every one of them.
 */
import {
  decodeVersionedMap,
  encodeValue,
  requireBin,
  requireInteger,
  requireMap,
  requireString,
} from "./envelope.ts";
import { fingerprintsOf, saveFingerprints } from "./input_id_fingerprint.ts";
import { describeValue, ProtocolError } from "./protocol_error.ts";
import { isValidName, sysSubject } from "./subjects.ts";

/** The encoding version of an ask and of an answer's part. */
export const STATE_CAPTURE_VERSION = 1;

/** An answer's part is cut before it grows past this many bytes of kernels and machines. */
export const CAPTURE_PART_BYTES_MAX = 512 << 10;

/** Instances one host's answer holds, at most (a bound on what an asker keeps). */
export const CAPTURE_INSTANCES_MAX = 1_000_000;

/** `troupe.sys.snapshots.ask`: where hosts take state captures' asks. */
export function stateCaptureSubject(): string {
  return sysSubject("snapshots", "ask");
}

/** The ask: who asks, and how long a host may wait for its instances to apply what is queued. */
export interface StateCaptureAsk {
  /** The asker's name, for the hosts' logs. */
  by: string;
  /** Milliseconds a host waits for an instance's queued inputs before it answers without it. */
  settleMs: number;
}

/** One instance's state, as restored (see the runtime's InstanceSnapshot). */
export interface CapturedInstance {
  /** `<kind>/<key>`. */
  stream: string;
  /** The kind's machine version the state is of. */
  version: number;
  /** The journal position and the source position of the last input applied. */
  pos: number;
  srcPos: number;
  /** The machine's persisted snapshot (msgpack-able). */
  machine: unknown;
  kernel: Uint8Array;
  config: unknown;
  /**
   * The inputs applied most recently, oldest first, as a saved window: 8 bytes an id, its
   * fingerprint (input_id_fingerprint.ts).
   */
  ids: Uint8Array;
}

/** One part of a host's answer. */
export interface StateCapturePart {
  host: string;
  /** 0-based index of this part, and the parts of the host's answer. */
  part: number;
  parts: number;
  /** The host's wall clock at the capture, ms since the Unix epoch. */
  atMs: number;
  /** Per kind: its machine version and the configuration its next instances start with. */
  kinds: Record<string, { version: number; config: unknown }>;
  instances: CapturedInstance[];
  /** Instances not captured (not running, or still applying at the settle time), with why. */
  missed: Array<{ stream: string; reason: string }>;
}

/** Encodes an ask: `{ v, by, settle_ms }`. */
export function encodeStateCaptureAsk(ask: StateCaptureAsk): Uint8Array {
  checkAsk(ask, "state capture ask");
  return encodeValue({ v: STATE_CAPTURE_VERSION, by: ask.by, settle_ms: ask.settleMs });
}

/** Decodes an ask; throws a ProtocolError naming the field and the value. */
export function decodeStateCaptureAsk(bytes: Uint8Array): StateCaptureAsk {
  const where = "state capture ask";
  const m = decodeVersionedMap(bytes, where, STATE_CAPTURE_VERSION);
  const ask = {
    by: requireString(m, "by", where),
    settleMs: requireInteger(m, "settle_ms", where),
  };
  checkAsk(ask, where);
  return ask;
}

/** Encodes a part: `{ v, host, part, parts, at_ms, kinds, instances, missed }`. */
export function encodeStateCapturePart(p: StateCapturePart): Uint8Array {
  return encodeValue({ v: STATE_CAPTURE_VERSION, ...stateCapturePartFields(p) });
}

/**
 * A part's fields as they are written, checked (without the answer's version): the answer's
 * message and a recording's start section both hold them.
 */
export function stateCapturePartFields(p: StateCapturePart): Record<string, unknown> {
  checkPart(p, "state capture part");
  return {
    host: p.host,
    part: p.part,
    parts: p.parts,
    at_ms: p.atMs,
    kinds: p.kinds,
    instances: p.instances.map((i) => ({
      stream: i.stream,
      version: i.version,
      pos: i.pos,
      src_pos: i.srcPos,
      machine: i.machine,
      kernel: i.kernel,
      config: i.config,
      ids: i.ids,
    })),
    missed: p.missed,
  };
}

/** Decodes a part; throws a ProtocolError naming the field and the value. */
export function decodeStateCapturePart(
  bytes: Uint8Array,
  where = "state capture part",
): StateCapturePart {
  const m = decodeVersionedMap(bytes, where, STATE_CAPTURE_VERSION);
  return stateCapturePartOf(m, where);
}

/** A part from its decoded map (the recording's start section holds them so). */
export function stateCapturePartOf(m: Record<string, unknown>, where: string): StateCapturePart {
  const kinds = requireMap(m.kinds ?? null, `Cannot decode ${where}: field "kinds"`);
  const list = (field: string) => {
    const v = m[field];
    if (!Array.isArray(v)) throw bad(`${where}.${field}`, "an array", v);
    return v as unknown[];
  };
  const instances = list("instances").map((raw, i) => {
    const w = `${where}.instances[${i}]`;
    const x = requireMap(raw, `Cannot decode ${w}`);
    // A part recorded before fingerprints holds the ids themselves.
    const fps = fingerprintsOf(x.ids);
    if (fps === undefined) {
      throw bad(`${w}.ids`, "8 bytes an id, or an array of strings", x.ids);
    }
    return {
      stream: requireString(x, "stream", w),
      version: requireInteger(x, "version", w),
      pos: requireInteger(x, "pos", w),
      srcPos: requireInteger(x, "src_pos", w),
      machine: x.machine,
      // A fresh array at offset 0: a kernel may put a Float64Array over it.
      kernel: new Uint8Array(requireBin(x, "kernel", w)),
      config: x.config,
      ids: saveFingerprints(fps),
    };
  });
  const missed = list("missed").map((raw, i) => {
    const w = `${where}.missed[${i}]`;
    const x = requireMap(raw, `Cannot decode ${w}`);
    return { stream: requireString(x, "stream", w), reason: requireString(x, "reason", w) };
  });
  const p: StateCapturePart = {
    host: requireString(m, "host", where),
    part: requireInteger(m, "part", where),
    parts: requireInteger(m, "parts", where),
    atMs: requireInteger(m, "at_ms", where),
    kinds: kinds as StateCapturePart["kinds"],
    instances,
    missed,
  };
  checkPart(p, where);
  return p;
}

function bad(field: string, want: string, value: unknown): ProtocolError {
  return new ProtocolError(
    "value",
    `Invalid ${field}: must be ${want}, got ${describeValue(value)}`,
    { field, value },
  );
}

function checkAsk(ask: StateCaptureAsk, where: string): void {
  if (typeof ask.by !== "string" || ask.by.length === 0 || ask.by.length > 256) {
    throw bad(`${where}.by`, "a name of 1 to 256 characters", ask.by);
  }
  if (!Number.isSafeInteger(ask.settleMs) || ask.settleMs < 0 || ask.settleMs > 60_000) {
    throw bad(`${where}.settle_ms`, "an integer from 0 to 60000", ask.settleMs);
  }
}

function checkPart(p: StateCapturePart, where: string): void {
  if (!isValidName(p.host)) throw bad(`${where}.host`, "a host id (A-Z a-z 0-9 _ -)", p.host);
  if (!Number.isSafeInteger(p.parts) || p.parts < 1 || p.parts > CAPTURE_INSTANCES_MAX) {
    throw bad(`${where}.parts`, `an integer from 1 to ${CAPTURE_INSTANCES_MAX}`, p.parts);
  }
  if (!Number.isSafeInteger(p.part) || p.part < 0 || p.part >= p.parts) {
    throw bad(`${where}.part`, `an integer from 0 to ${p.parts - 1}`, p.part);
  }
  for (const [kind, k] of Object.entries(p.kinds)) {
    if (!isValidName(kind)) throw bad(`${where}.kinds`, "keyed by actor kinds", kind);
    const m = k as { version?: unknown } | null;
    if (m === null || typeof m !== "object" || typeof m.version !== "number") {
      throw bad(`${where}.kinds.${kind}`, "a map { version, config }", k);
    }
  }
  for (const i of p.instances) {
    if (!/^[A-Za-z0-9_-]+\/[A-Za-z0-9_-]+$/.test(i.stream)) {
      throw bad(`${where}.instances.stream`, "a stream <kind>/<key>", i.stream);
    }
    if (i.pos < 0 || i.srcPos < 0) {
      throw bad(`${where}.instances.pos`, "a position >= 0", Math.min(i.pos, i.srcPos));
    }
  }
}

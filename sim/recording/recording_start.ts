/**
 * A recording's start section (format 4): the actors' state when a recording started in the
 * middle of a session, as the hosts answered the recorder's state capture
 * (protocol/state_capture.ts). It sits between the header and the first record, laid out as a
 * record is (u32 length, u32 CRC-32, body), its body a msgpack map
 * `{ section: "start", v: 1, taken_us, parts: [ <state capture part> ... ] }`, each part as the
 * wire has it without its own `v`. The header's `start_bytes` says how many bytes it takes (0 or
 * absent: none). Replay loads these snapshots before the first input, skips a recorded input an
 * instance's snapshot already holds (its id is in the instance's window of applied ids) and
 * compares only the outputs caused after them.
 */
import { crc32 } from "../../actors/runtime/mod.ts";
import {
  type CapturedInstance,
  decodeValue,
  encodeValue,
  requireMap,
  type StateCapturePart,
  stateCapturePartFields,
  stateCapturePartOf,
} from "../../protocol/mod.ts";

/** The start section's own version (inside format 4). */
export const START_SECTION_VERSION = 1;

/** The largest start section accepted (a bound: a damaged length must not allocate gigabytes). */
export const START_SECTION_BYTES_MAX = 256 << 20;

/** What a recording's start section says. */
export interface RecordingStart {
  /** When the recorder had the hosts' answers (µs since the epoch, recorder's clock). */
  takenUs: number;
  /** Every part of every host's answer. */
  parts: StateCapturePart[];
}

/** Encodes a start section (length, CRC, msgpack map body). */
export function encodeRecordingStart(start: RecordingStart): Uint8Array {
  const body = encodeValue({
    section: "start",
    v: START_SECTION_VERSION,
    taken_us: start.takenUs,
    parts: start.parts.map(stateCapturePartFields),
  });
  if (body.byteLength > START_SECTION_BYTES_MAX) {
    throw new RangeError(
      `The recording's start section of ${body.byteLength} bytes is over the limit of ` +
        `${START_SECTION_BYTES_MAX} bytes`,
    );
  }
  const out = new Uint8Array(8 + body.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.byteLength, true);
  view.setUint32(4, crc32(body), true);
  out.set(body, 8);
  return out;
}

/** Decodes a start section (its 8-byte prefix included), or says why it is not one. */
export function decodeRecordingStart(bytes: Uint8Array): RecordingStart | string {
  if (bytes.byteLength < 8) return "the start section is cut inside its length prefix";
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(0, true);
  if (length !== bytes.byteLength - 8) {
    return `the start section says ${length} bytes, the header says ${bytes.byteLength - 8}`;
  }
  const body = bytes.subarray(8);
  if (crc32(body) !== view.getUint32(4, true)) return "the start section's checksum does not match";
  try {
    const m = requireMap(decodeValue(body), "The start section");
    if (m.section !== "start") return `the section after the header is not "start"`;
    if (m.v !== START_SECTION_VERSION) {
      return `the start section is of version ${String(m.v)}; this troupe reads version ` +
        START_SECTION_VERSION;
    }
    if (typeof m.taken_us !== "number" || !Array.isArray(m.parts)) {
      return "the start section is not { section, v, taken_us, parts }";
    }
    const parts = m.parts.map((raw, i) =>
      stateCapturePartOf(requireMap(raw, `start section part ${i}`), `start section part ${i}`)
    );
    return { takenUs: m.taken_us, parts };
  } catch (err) {
    return (err as Error).message;
  }
}

/** The instances of a start section by stream (a stream answered twice keeps its first). */
export function startInstances(start: RecordingStart): Map<string, CapturedInstance> {
  const out = new Map<string, CapturedInstance>();
  for (const part of start.parts) {
    for (const inst of part.instances) if (!out.has(inst.stream)) out.set(inst.stream, inst);
  }
  return out;
}

/** Per kind, the configuration its later instances start with, as the first host said. */
export function startKindConfigs(start: RecordingStart): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const part of start.parts) {
    for (const [kind, k] of Object.entries(part.kinds)) {
      if (!out.has(kind)) out.set(kind, k.config);
    }
  }
  return out;
}

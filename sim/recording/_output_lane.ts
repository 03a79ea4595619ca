/**
 * An output's lane, told by its envelope id (protocol/output_id.ts): an instance's per-sample
 * columns (`…:c`) and what its machine emits (`…:0`, `…:1`, …). A host publishes the columns at
 * once and its findings once the findings stream has acknowledged them, so on one subject the
 * columns of later inputs can overtake an earlier input's finding: each lane keeps its order,
 * the two together do not.
 */
import { decodeValue } from "../../protocol/mod.ts";

/** `columns`: an output whose id ends in `:c`; `machine`: any other (an event, a finding). */
export type OutputLane = "columns" | "machine";

const COLON = 0x3a, LOWER_C = 0x63;

/**
 * The lane of an output's bytes. The id is read in place where the envelope starts as troupe's
 * encoders write it (`v`, then `id`), so a columns frame is not decoded; any other layout is
 * decoded whole. Bytes without a string id are `machine`.
 */
export function outputLane(data: Uint8Array): OutputLane {
  const end = idEnd(data);
  if (end !== undefined) {
    // An id shorter than two bytes leaves the key `id` or the string's header there: no `:c`.
    return data[end - 2] === COLON && data[end - 1] === LOWER_C ? "columns" : "machine";
  }
  let id: unknown;
  try {
    id = (decodeValue(data) as { id?: unknown } | null)?.id;
  } catch {
    return "machine";
  }
  return typeof id === "string" && id.endsWith(":c") ? "columns" : "machine";
}

/**
 * Where the id's bytes end, for a map (fixmap or map 16) whose first key is `v` with a fixint
 * value and whose second is `id` with a string; undefined for any other layout.
 */
function idEnd(b: Uint8Array): number | undefined {
  const head = b[0];
  let p: number;
  if (head !== undefined && head >= 0x80 && head <= 0x8f) p = 1;
  else if (head === 0xde) p = 3;
  else return undefined;
  // "v" (fixstr 1), a positive fixint, "id" (fixstr 2).
  if (b[p] !== 0xa1 || b[p + 1] !== 0x76 || (b[p + 2] ?? 0x80) >= 0x80) return undefined;
  p += 3;
  if (b[p] !== 0xa2 || b[p + 1] !== 0x69 || b[p + 2] !== 0x64) return undefined;
  p += 3;
  const t = b[p];
  let n: number;
  if (t === undefined) return undefined;
  if (t >= 0xa0 && t <= 0xbf) {
    n = t & 0x1f;
    p += 1;
  } else if (t === 0xd9) {
    n = b[p + 1] ?? -1;
    p += 2;
  } else if (t === 0xda) {
    n = ((b[p + 1] ?? 0) << 8) | (b[p + 2] ?? 0);
    p += 3;
  } else if (t === 0xdb) {
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (p + 5 > b.length) return undefined;
    n = v.getUint32(p + 1);
    p += 5;
  } else return undefined;
  return n >= 0 && p + n <= b.length ? p + n : undefined;
}

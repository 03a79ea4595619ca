/**
 * What a scan service publishes on `troupe.scan.<scanId>.results` (`scanSubject(id, "results")`):
 * the results a chunk added to the scan, numbered in sequence, as one msgpack list of maps
 * `[{ seq, symbol, rank, chunk }, ...]`, never empty (a chunk with no hit publishes nothing, and
 * nothing is published again on recovery). The findings' readers (`troupe watch`, the dashboard's
 * event list, `troupe up`'s status) show each result as a `scan` finding. The decoder checks every
 * field of every result: a malformed batch is refused whole with a ProtocolError naming the
 * result, the field and the value, never shown as a symbol called `undefined`.
 */
import { encodeValue } from "./envelope.ts";
import { describeValue, ProtocolError } from "./protocol_error.ts";
import { Fields } from "./_fields.ts";
import type { ScanResult } from "./scan_result.ts";

/**
 * A batch of a scan's results, in sequence order: each a matched `symbol`, its `seq` (1 for the
 * scan's first result, one more for each after it), its `rank` (null when the scan has no rank or
 * it is not finite) and the `chunk` it was found in.
 */
export type ScanResultsBatch = ScanResult[];

/** Encodes a batch as a msgpack list of `{ seq, symbol, rank, chunk }` maps, in that order. */
export function encodeScanResultsBatch(results: readonly ScanResult[]): Uint8Array {
  return encodeValue(
    results.map((r) => ({ seq: r.seq, symbol: r.symbol, rank: r.rank, chunk: r.chunk })),
  );
}

/**
 * Decodes and checks a batch; `where` names it in the errors (the subject it came on, say). Throws
 * a ProtocolError naming the result, the field and the value.
 */
export function decodeScanResultsBatch(
  bytes: Uint8Array,
  where = "scan results",
): ScanResultsBatch {
  const list = Fields.listOf(bytes, where);
  if (list.length === 0) {
    throw new ProtocolError(
      "value",
      `Cannot decode ${where}: no result, got ${describeValue(list)}`,
    );
  }
  const out: ScanResultsBatch = [];
  for (const [i, v] of list.entries()) {
    const r = Fields.ofValue(v, `${where}'s result ${i}`);
    const seq = r.m.seq;
    const want = i === 0 ? undefined : out[i - 1]!.seq + 1;
    if (!Number.isInteger(seq) || (seq as number) < 1) {
      throw r.fail("seq", seq, "must be a whole number >= 1");
    }
    if (want !== undefined && seq !== want) throw r.fail("seq", seq, `must be ${want}, in order`);
    out.push({
      seq: seq as number,
      symbol: r.str("symbol"),
      rank: r.orNull("rank", () => r.num("rank")),
      chunk: r.count("chunk"),
    });
  }
  return out;
}

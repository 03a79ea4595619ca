/**
 * The body of a bars seed, as journaled (see `Host.seed`): the bar size and the seeded bars'
 * columns as msgpack bin of 8-byte little-endian values, so that a journal replayed folds the very
 * bars the files gave, without the files.
 */
import { describeValue, float64Bytes, float64Column } from "../../protocol/mod.ts";
import type { SeedBars } from "./kernel.ts";

const FIELDS = ["t", "open", "high", "low", "close", "count", "sum"] as const;

/** The seed body of `bars`. */
export function barsSeedBody(bars: SeedBars): Record<string, unknown> {
  const body: Record<string, unknown> = { size_us: bars.sizeUs };
  for (const f of FIELDS) body[f] = float64Bytes(bars[f]);
  return body;
}

/** The bars a seed body holds; throws naming the field that is wrong. */
export function barsOfSeedBody(body: unknown): SeedBars {
  if (body === null || typeof body !== "object" || body instanceof Uint8Array) {
    throw new Error(`Cannot read a bars seed: the body must be a map, got ${describeValue(body)}`);
  }
  const m = body as Record<string, unknown>;
  const sizeUs = m.size_us;
  if (typeof sizeUs !== "number" || !Number.isSafeInteger(sizeUs) || sizeUs <= 0) {
    throw new Error(
      `Cannot read a bars seed: field "size_us" must be a positive integer, got ${
        describeValue(sizeUs)
      }`,
    );
  }
  const col = (f: (typeof FIELDS)[number]) => {
    const bin = m[f];
    if (!(bin instanceof Uint8Array)) {
      throw new Error(
        `Cannot read a bars seed: field "${f}" must be bin, got ${describeValue(bin)}`,
      );
    }
    return float64Column(bin, f);
  };
  return {
    sizeUs,
    t: col("t"),
    open: col("open"),
    high: col("high"),
    low: col("low"),
    close: col("close"),
    count: col("count"),
    sum: col("sum"),
  };
}

/**
 * Scans across a partitioned cluster, where each host holds only its partitions' symbols' bars:
 * the host that admits a scan asks every partition for its symbols of the universe (a request on
 * `troupe.scan.symbols.<k>`, answered by the host owning partition k, with each symbol's priority),
 * orders them all by priority, and cuts chunks within one partition each, so that every chunk goes
 * to its partition's work subject (`troupe.scan.work.p.<k>`), whose workers hold its bars. A
 * partition that does not answer within the deadline is named, never silently left out. A chunk's
 * partition is `partitionOf` of its symbols: the chunks journaled as today say where each goes.
 */
import type { Bus, BusSubscription } from "../../protocol/mod.ts";
import { partitionOf } from "../runtime/mod.ts";
import {
  decodeScanSymbolsReply,
  decodeScanSymbolsRequest,
  encodeScanMessage,
  type ScanSymbolsReply,
  type ScanSymbolsRequest,
  scanSymbolsSubject,
} from "../../protocol/mod.ts";

/** The partitions of a cluster and those this host owns. */
export interface Partitions {
  count: number;
  owned: readonly number[];
  /** How long the admitting host waits for each partition's symbols (default 2000 ms). */
  gather_timeout_ms?: number;
}

/** Default of `Partitions.gather_timeout_ms`. */
export const GATHER_TIMEOUT_MS = 2000;

/**
 * Answers the symbols requests of the partitions this host owns with `answer`; a malformed
 * request is counted in `dropped` and not answered. Returns the subscriptions.
 */
export function answerSymbols(
  bus: Bus,
  owned: readonly number[],
  answer: (k: number, request: ScanSymbolsRequest) => ScanSymbolsReply,
  dropped: () => void,
): BusSubscription[] {
  return owned.map((k) =>
    bus.subscribe(scanSymbolsSubject(k), (msg) => {
      if (msg.reply === undefined) return dropped();
      let request: ScanSymbolsRequest;
      try {
        request = decodeScanSymbolsRequest(msg.data);
      } catch {
        return dropped();
      }
      bus.publish(msg.reply, encodeScanMessage(answer(k, request)));
    })
  );
}

/** The universe as gathered from every partition. */
export interface Gathered {
  /** Every symbol answered, in priority order (highest first; ties by name). */
  order: string[];
  /** Partitions that did not answer in time (none of their symbols are in `order`). */
  missing: number[];
}

/**
 * Asks every partition for its symbols of `request`'s universe and their priorities, and orders
 * them: `front` first (those answered, in its order), then by priority. A listed universe's
 * symbols that their partition answered without (held nowhere) are kept, last, so that their
 * worker counts them unknown as on one host.
 */
export async function gatherUniverse(
  bus: Bus,
  partitions: Partitions,
  request: ScanSymbolsRequest,
  front: readonly string[] = [],
): Promise<Gathered> {
  const data = encodeScanMessage(request);
  const timeout = partitions.gather_timeout_ms ?? GATHER_TIMEOUT_MS;
  const replies = await Promise.all(
    Array.from(
      { length: partitions.count },
      async (_, k): Promise<ScanSymbolsReply | undefined> => {
        try {
          const msg = await bus.request(scanSymbolsSubject(k), data, { timeout });
          const reply = decodeScanSymbolsReply(msg.data);
          return reply.partition === k ? reply : undefined;
        } catch {
          return undefined;
        }
      },
    ),
  );
  const priority = new Map<string, number>();
  const missing: number[] = [];
  replies.forEach((r, k) => {
    if (r === undefined) return void missing.push(k);
    r.symbols.forEach((s, i) => priority.set(s, r.priorities[i] ?? -Infinity));
  });
  if (Array.isArray(request.universe)) {
    const answered = new Set(replies.flatMap((r, k) => (r === undefined ? [] : [k])));
    for (const s of request.universe) {
      if (!priority.has(s) && answered.has(partitionOf(s, partitions.count))) {
        priority.set(s, -Infinity);
      }
    }
  }
  const first = front.filter((s) => priority.has(s));
  const inFront = new Set(first);
  const rest = [...priority.keys()].filter((s) => !inFront.has(s));
  rest.sort((a, b) => {
    const pa = priority.get(a)!, pb = priority.get(b)!;
    return pa !== pb ? (pa > pb ? -1 : 1) : a < b ? -1 : a > b ? 1 : 0;
  });
  return { order: [...first, ...rest], missing };
}

/**
 * Cuts `order` into chunks of one partition each: each partition's symbols, in the order's
 * order, in chunks that grow from `firstSize` to `maxSize`, doubling; the chunks sorted by the
 * place of their first symbol in `order`, so the most promising go out first.
 */
export function cutByPartition(
  order: readonly string[],
  count: number,
  firstSize: number,
  maxSize: number,
): string[][] {
  const open = new Map<number, { first: number; symbols: string[]; size: number }>();
  const cut: Array<{ first: number; symbols: string[] }> = [];
  order.forEach((s, i) => {
    const k = partitionOf(s, count);
    let c = open.get(k);
    if (c === undefined) {
      c = { first: -1, symbols: [], size: Math.min(firstSize, maxSize) };
      open.set(k, c);
    }
    if (c.first === -1) c.first = i;
    c.symbols.push(s);
    if (c.symbols.length >= c.size) {
      cut.push({ first: c.first, symbols: c.symbols });
      open.set(k, { first: -1, symbols: [], size: Math.min(c.size * 2, maxSize) });
    }
  });
  for (const c of open.values()) if (c.symbols.length > 0) cut.push(c);
  return cut.sort((a, b) => a.first - b.first).map((c) => c.symbols);
}

/** The work subject's partition of a chunk: that of its symbols. */
export function chunkPartition(chunk: readonly string[], count: number): number {
  return chunk.length === 0 ? 0 : partitionOf(chunk[0]!, count);
}

/**
 * The scan's messages and journal records, as msgpack maps, each with its decoder that checks
 * every field (the edge of the scan service: a malformed message is dropped and counted, never
 * acted on; a journal record that is not one stops the service's recovery, naming it).
 *
 * - work (`troupe.scan.work`; in a partitioned cluster `troupe.scan.work.p.<k>`, the chunks of
 *   partition k's symbols; queue group SCAN_WORK_QUEUE): a chunk of symbols to scan;
 * - symbols (`troupe.scan.symbols.<k>`, a request answered by the host owning partition k): the
 *   symbols of a universe it holds in partition k, with their priorities;
 * - chunk results (`troupe.scan.<scanId>.chunk`): what a worker found in a chunk (the numbered
 *   results the service then publishes on `troupe.scan.<scanId>.results` are a
 *   ScanResultsBatch, scan_results_batch.ts);
 * - journal records of stream `scan/<scanId>`: the definition, start, each chunk's results (with
 *   their sequence numbers implied by the order), stop, drained, fail.
 *
 * The subjects are built in subjects.ts (SCAN_WORK_SUBJECT, scanPartitionWorkSubject,
 * scanSymbolsSubject, scanSubject).
 */
import { encodeValue } from "./envelope.ts";
import { Fields, isMap } from "./_fields.ts";

/** The queue group of the scan workers on the work subjects. */
export const SCAN_WORK_QUEUE = "scan-workers";

/** A scan's definition, as parsed from its request (actors/scan/scan_request.ts). */
export interface ScanDefinition {
  criteria: string;
  rank: string | null;
  order: "asc" | "desc";
  /** The bar size (`1m`). */
  bar: string;
  /** Symbols, or one `PREFIX*` pattern, or null for every symbol held. */
  universe: string[] | string | null;
  max_signals: number | null;
  timeout_ms: number | null;
  /** What orders the chunks, most promising first (descending). */
  priority: string;
}

/** A chunk of work. */
export interface ScanWork {
  scanId: string;
  chunk: number;
  /** Which dispatch of the chunk (a chunk that timed out is sent again). */
  attempt: number;
  symbols: string[];
  def: ScanDefinition;
}

/** A matched symbol: its rank, null when the scan has no rank or it is not finite. */
export type ScanHit = [symbol: string, rank: number | null];

/** A chunk's results. */
export interface ScanChunk {
  scanId: string;
  chunk: number;
  worker: string;
  hits: ScanHit[];
  insufficient: string[];
  unknown: string[];
  symbols: number;
}

/** A journal record of a scan's stream. */
export type ScanRecord =
  | {
    k: "def";
    scanId: string;
    def: ScanDefinition;
    chunks: string[][];
    ts: number;
    /** A partitioned cluster's partitions that did not say their symbols (not scanned). */
    missing?: number[];
  }
  | { k: "start"; ts: number }
  | {
    k: "chunk";
    chunk: number;
    hits: ScanHit[];
    insufficient: string[];
    unknown: string[];
    symbols: number;
    ts: number;
  }
  | { k: "stop"; reason: "timeout" | "requested"; ts: number }
  | { k: "drained"; ts: number }
  | { k: "fail"; error: string; ts: number };

/** Which symbols of a universe a partition's host holds, by bar size and priority. */
export interface ScanSymbolsRequest {
  bar: string;
  priority: string;
  universe: ScanDefinition["universe"];
}

/** A partition's answer: its symbols of the universe held there, each with its priority. */
export interface ScanSymbolsReply {
  partition: number;
  symbols: string[];
  /** The priority of each symbol (null: none, it goes last). */
  priorities: Array<number | null>;
}

/** Encodes any of the above. */
export function encodeScanMessage(
  m: ScanWork | ScanChunk | ScanRecord | ScanSymbolsRequest | ScanSymbolsReply,
): Uint8Array {
  return encodeValue(m);
}

/** Decodes and checks a work message. */
export function decodeScanWork(bytes: Uint8Array): ScanWork {
  const r = ScanFields.of(bytes, "scan work");
  return {
    scanId: r.str("scanId"),
    chunk: r.count("chunk"),
    attempt: r.count("attempt"),
    symbols: r.strings("symbols"),
    def: r.def("def"),
  };
}

/** Decodes and checks a chunk results message. */
export function decodeScanChunk(bytes: Uint8Array): ScanChunk {
  const r = ScanFields.of(bytes, "scan chunk results");
  return {
    scanId: r.str("scanId"),
    chunk: r.count("chunk"),
    worker: r.str("worker"),
    hits: r.hits("hits"),
    insufficient: r.strings("insufficient"),
    unknown: r.strings("unknown"),
    symbols: r.count("symbols"),
  };
}

/** Decodes and checks a symbols request. */
export function decodeScanSymbolsRequest(bytes: Uint8Array): ScanSymbolsRequest {
  const r = ScanFields.of(bytes, "scan symbols request");
  return { bar: r.str("bar"), priority: r.str("priority"), universe: r.universe("universe") };
}

/** Decodes and checks a partition's symbols reply. */
export function decodeScanSymbolsReply(bytes: Uint8Array): ScanSymbolsReply {
  const r = ScanFields.of(bytes, "scan symbols reply");
  const symbols = r.strings("symbols");
  const p = r.m.priorities;
  if (
    !Array.isArray(p) || p.length !== symbols.length ||
    !p.every((x) => x === null || typeof x === "number")
  ) {
    throw r.fail("priorities", p, "must be a list of numbers or null, one per symbol");
  }
  return { partition: r.count("partition"), symbols, priorities: p };
}

/** Decodes and checks a journal record of a scan's stream, every field of its kind. */
export function decodeScanRecord(bytes: Uint8Array): ScanRecord {
  const r = ScanFields.of(bytes, "scan journal record");
  const k = r.m.k;
  switch (k) {
    case "def": {
      const chunks = r.m.chunks;
      if (!Array.isArray(chunks)) throw r.fail("chunks", chunks, "must be a list of symbol lists");
      const record: ScanRecord = {
        k,
        scanId: r.str("scanId"),
        def: r.def("def"),
        chunks: chunks.map((_, i) => r.strings("chunks", chunks[i], `chunks[${i}]`)),
        ts: r.num("ts"),
      };
      if (r.m.missing !== undefined) record.missing = r.counts("missing");
      return record;
    }
    case "start":
    case "drained":
      return { k, ts: r.num("ts") };
    case "chunk":
      return {
        k,
        chunk: r.count("chunk"),
        hits: r.hits("hits"),
        insufficient: r.strings("insufficient"),
        unknown: r.strings("unknown"),
        symbols: r.count("symbols"),
        ts: r.num("ts"),
      };
    case "stop": {
      const reason = r.m.reason;
      if (reason !== "timeout" && reason !== "requested") {
        throw r.fail("reason", reason, 'must be "timeout" or "requested"');
      }
      return { k, reason, ts: r.num("ts") };
    }
    case "fail":
      return { k, error: r.str("error"), ts: r.num("ts") };
    default:
      throw r.fail("k", k, 'must be "def", "start", "chunk", "stop", "drained" or "fail"');
  }
}

/** The scan messages' fields: Fields with the hits, the universe and the definition. */
class ScanFields extends Fields {
  static override of(bytes: Uint8Array, what: string): ScanFields {
    const f = Fields.of(bytes, what);
    return new ScanFields(f.m, f.what);
  }

  hits(field: string): ScanHit[] {
    const v = this.m[field];
    if (!Array.isArray(v)) throw this.fail(field, v, "must be a list");
    for (const h of v) {
      if (
        !Array.isArray(h) || h.length !== 2 || typeof h[0] !== "string" ||
        !(h[1] === null || typeof h[1] === "number")
      ) {
        throw this.fail(field, h, "must hold [symbol, rank|null]");
      }
    }
    return v as ScanHit[];
  }

  universe(field: string): ScanDefinition["universe"] {
    const u = this.m[field];
    return u === null || typeof u === "string" ? u : this.strings(field);
  }

  /** A definition's shape (what its request's parser made; not re-parsed). */
  def(field: string): ScanDefinition {
    const d = this.m[field];
    if (!isMap(d)) throw this.fail(field, d, "must be a map");
    const inner = new ScanFields(d, `${this.what}'s ${field}`);
    const order = inner.oneOf("order", ["asc", "desc"] as const);
    return {
      criteria: inner.str("criteria"),
      rank: inner.orNull("rank", () => inner.str("rank")),
      order,
      bar: inner.str("bar"),
      universe: inner.universe("universe"),
      max_signals: inner.orNull("max_signals", () => inner.count("max_signals")),
      timeout_ms: inner.orNull("timeout_ms", () => inner.count("timeout_ms")),
      priority: inner.str("priority"),
    };
  }
}

/**
 * The scan's messages and journal records, as msgpack maps, each with its decoder that checks
 * every field (the edge of the scan service: a malformed message is dropped and counted, never
 * acted on).
 *
 * - work (`troupe.scan.work`; in a partitioned cluster `troupe.scan.work.p.<k>`, the chunks of
 *   partition k's symbols; queue group `scan-workers`): a chunk of symbols to scan;
 * - symbols (`troupe.scan.symbols.<k>`, a request answered by the host owning partition k): the
 *   symbols of a universe it holds in partition k, with their priorities;
 * - chunk results (`troupe.scan.<scanId>.chunk`): what a worker found in a chunk;
 * - journal records of stream `scan/<scanId>`: the definition, start, each chunk's results (with
 *   their sequence numbers implied by the order), stop, drained, fail.
 */
import {
  decodeValue,
  encodeValue,
  SCAN_WORK_SUBJECT,
  scanPartitionWorkSubject,
  scanSubject,
  scanSymbolsSubject,
} from "../../protocol/mod.ts";
import type { ScanDefinition } from "./scan_request.ts";

/** The subject workers take chunks from, as one queue group. */
export const WORK_SUBJECT = SCAN_WORK_SUBJECT;

/**
 * The work subject of partition `k`'s chunks in a partitioned cluster: the workers of the host
 * that owns partition k (and holds its symbols' bars) take them.
 */
export const partitionWorkSubject = scanPartitionWorkSubject;

/** The subject where the host owning partition `k` answers which of a universe's symbols it holds. */
export const partitionSymbolsSubject = scanSymbolsSubject;

/** The queue group of the workers. */
export const WORK_QUEUE = "scan-workers";

/** The subject a scan's chunk results come back on. */
export function chunkSubject(scanId: string): string {
  return scanSubject(scanId, "chunk");
}

/** The subject a scan's sequenced results are published on (for other processes to watch). */
export function resultsSubject(scanId: string): string {
  return scanSubject(scanId, "results");
}

/** A chunk of work. */
export interface WorkMessage {
  scanId: string;
  chunk: number;
  /** Which dispatch of the chunk (a chunk that timed out is sent again). */
  attempt: number;
  symbols: string[];
  def: ScanDefinition;
}

/** A matched symbol: its rank, null when the scan has no rank or it is not finite. */
export type Hit = [symbol: string, rank: number | null];

/** A chunk's results. */
export interface ChunkMessage {
  scanId: string;
  chunk: number;
  worker: string;
  hits: Hit[];
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
    hits: Hit[];
    insufficient: string[];
    unknown: string[];
    symbols: number;
    ts: number;
  }
  | { k: "stop"; reason: "timeout" | "requested"; ts: number }
  | { k: "drained"; ts: number }
  | { k: "fail"; error: string; ts: number };

/** Which symbols of a universe a partition's host holds, by bar size and priority. */
export interface SymbolsRequest {
  bar: string;
  priority: string;
  universe: ScanDefinition["universe"];
}

/** A partition's answer: its symbols of the universe held there, each with its priority. */
export interface SymbolsReply {
  partition: number;
  symbols: string[];
  /** The priority of each symbol (null: none, it goes last). */
  priorities: Array<number | null>;
}

/** Encodes any of the above. */
export function encodeScanMessage(
  m: WorkMessage | ChunkMessage | ScanRecord | SymbolsRequest | SymbolsReply,
): Uint8Array {
  return encodeValue(m);
}

function fail(what: string, why: string): Error {
  return new Error(`Cannot decode ${what}: ${why}`);
}

function obj(bytes: Uint8Array, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = decodeValue(bytes);
  } catch (e) {
    throw fail(what, `not msgpack (${(e as Error).message})`);
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw fail(what, "not a map");
  return v as Record<string, unknown>;
}

function strings(v: unknown, what: string, field: string): string[] {
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) {
    throw fail(what, `field "${field}" must be a list of strings`);
  }
  return v as string[];
}

function int(v: unknown, what: string, field: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
    throw fail(what, `field "${field}" must be a whole number >= 0, got ${JSON.stringify(v)}`);
  }
  return v;
}

function hits(v: unknown, what: string): Hit[] {
  if (!Array.isArray(v)) throw fail(what, `field "hits" must be a list`);
  for (const h of v) {
    if (
      !Array.isArray(h) || h.length !== 2 || typeof h[0] !== "string" ||
      !(h[1] === null || typeof h[1] === "number")
    ) {
      throw fail(what, `field "hits" holds ${JSON.stringify(h)}, not [symbol, rank|null]`);
    }
  }
  return v as Hit[];
}

/** Decodes and checks a work message. */
export function decodeWork(bytes: Uint8Array): WorkMessage {
  const what = "scan work";
  const m = obj(bytes, what);
  if (typeof m.scanId !== "string") throw fail(what, `field "scanId" must be a string`);
  if (m.def === null || typeof m.def !== "object") throw fail(what, `field "def" must be a map`);
  return {
    scanId: m.scanId,
    chunk: int(m.chunk, what, "chunk"),
    attempt: int(m.attempt, what, "attempt"),
    symbols: strings(m.symbols, what, "symbols"),
    def: m.def as ScanDefinition,
  };
}

/** Decodes and checks a chunk results message. */
export function decodeChunk(bytes: Uint8Array): ChunkMessage {
  const what = "scan chunk results";
  const m = obj(bytes, what);
  if (typeof m.scanId !== "string") throw fail(what, `field "scanId" must be a string`);
  if (typeof m.worker !== "string") throw fail(what, `field "worker" must be a string`);
  return {
    scanId: m.scanId,
    chunk: int(m.chunk, what, "chunk"),
    worker: m.worker,
    hits: hits(m.hits, what),
    insufficient: strings(m.insufficient, what, "insufficient"),
    unknown: strings(m.unknown, what, "unknown"),
    symbols: int(m.symbols, what, "symbols"),
  };
}

/** Decodes and checks a symbols request. */
export function decodeSymbolsRequest(bytes: Uint8Array): SymbolsRequest {
  const what = "scan symbols request";
  const m = obj(bytes, what);
  if (typeof m.bar !== "string") throw fail(what, `field "bar" must be a string`);
  if (typeof m.priority !== "string") throw fail(what, `field "priority" must be a string`);
  const u = m.universe;
  const universe = u === null || typeof u === "string" ? u : strings(u, what, "universe");
  return { bar: m.bar, priority: m.priority, universe };
}

/** Decodes and checks a partition's symbols reply. */
export function decodeSymbolsReply(bytes: Uint8Array): SymbolsReply {
  const what = "scan symbols reply";
  const m = obj(bytes, what);
  const symbols = strings(m.symbols, what, "symbols");
  const p = m.priorities;
  if (
    !Array.isArray(p) || p.length !== symbols.length ||
    !p.every((x) => x === null || typeof x === "number")
  ) {
    throw fail(what, `field "priorities" must be a list of numbers or null, one per symbol`);
  }
  return { partition: int(m.partition, what, "partition"), symbols, priorities: p };
}

/** Decodes a journal record (written by this service: checked for its kind only). */
export function decodeScanRecord(bytes: Uint8Array): ScanRecord {
  const m = obj(bytes, "scan journal record");
  if (!["def", "start", "chunk", "stop", "drained", "fail"].includes(m.k as string)) {
    throw fail("scan journal record", `unknown kind ${JSON.stringify(m.k)}`);
  }
  return m as unknown as ScanRecord;
}

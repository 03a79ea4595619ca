/**
 * The scan's messages and journal records, as msgpack maps, each with its decoder that checks
 * every field (the edge of the scan service: a malformed message is dropped and counted, never
 * acted on).
 *
 * - work (`troupe.scan.work`, or a partitioned host's own `troupe.scan.work.host.<hostId>`; queue
 *   group `scan-workers`): a chunk of symbols to scan;
 * - chunk results (`troupe.scan.<scanId>.chunk`): what a worker found in a chunk;
 * - journal records of stream `scan/<scanId>`: the definition, start, each chunk's results (with
 *   their sequence numbers implied by the order), stop, drained, fail.
 */
import { decodeValue, encodeValue } from "../../protocol/mod.ts";
import type { ScanDefinition } from "./scan_request.ts";

/** The subject workers take chunks from, as one queue group. */
export const WORK_SUBJECT = "troupe.scan.work";

/**
 * The work subject of one host's own workers: a host that owns only some partitions sends its
 * scans' chunks there, since another host's workers hold none of its symbols' bars.
 */
export function hostWorkSubject(hostId: string): string {
  return `${WORK_SUBJECT}.host.${hostId}`;
}
/** The queue group of the workers. */
export const WORK_QUEUE = "scan-workers";

/** The subject a scan's chunk results come back on. */
export function chunkSubject(scanId: string): string {
  return `troupe.scan.${scanId}.chunk`;
}

/** The subject a scan's sequenced results are published on (for other processes to watch). */
export function resultsSubject(scanId: string): string {
  return `troupe.scan.${scanId}.results`;
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
  | { k: "def"; scanId: string; def: ScanDefinition; chunks: string[][]; ts: number }
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

/** Encodes any of the above. */
export function encodeScanMessage(m: WorkMessage | ChunkMessage | ScanRecord): Uint8Array {
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

/** Decodes a journal record (written by this service: checked for its kind only). */
export function decodeScanRecord(bytes: Uint8Array): ScanRecord {
  const m = obj(bytes, "scan journal record");
  if (!["def", "start", "chunk", "stop", "drained", "fail"].includes(m.k as string)) {
    throw fail("scan journal record", `unknown kind ${JSON.stringify(m.k)}`);
  }
  return m as unknown as ScanRecord;
}

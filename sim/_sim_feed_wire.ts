/**
 * What crosses between a simulation and its feed worker (see _sim_feed_thread.ts and
 * _sim_feed_worker.ts): the job, the worker's replies (frame chunks, the reference, the recovery
 * checks' verdicts), and the check work, whose byte arrays go by reference into shared slabs.
 */
import type { MessagePort } from "node:worker_threads";
import { type InstanceSnapshot, type JournalRecord } from "../actors/runtime/mod.ts";
import type { FeedEntry } from "./_sim_feed_log.ts";
import type { CheckOp, CheckViolation, FeedSpec } from "./_sim_feed_source.ts";
import type { RecoveryCheck, RecoveryInstance } from "./recovery_checker.ts";
import { frameRecordHeadBytes } from "../protocol/mod.ts";

/** What the worker is started with. */
export interface FeedWorkerData {
  troupeSimReference: true;
}

/** Frames per chunk the worker hands over (the first chunk is small, so the run starts at once). */
export const CHUNK_FIRST = 16;
export const CHUNK = 256;
/** A worker that makes no progress for this long is given up (the run goes on in process). */
export const STALL_MS = 60_000;

export interface Job {
  port: MessagePort;
  signal: SharedArrayBuffer;
  feed: FeedSpec;
  kinds: string[];
  config: Record<string, unknown>;
}

export type Packed<Buffer = ArrayBuffer> = {
  ids: string[];
  starts: Uint32Array;
  lengths: Uint32Array;
  buf: Buffer;
};

export type Reply =
  | {
    type: "frames";
    first: number;
    subjects: string[];
    packed: Packed<SharedArrayBuffer>;
    headroom: number[];
  }
  | {
    type: "reference";
    outputs: Packed;
    finals: [string, InstanceSnapshot][];
    conflicts: string[];
    reapplied: number;
  }
  | { type: "checked"; results: [number, CheckViolation[]][] }
  | { type: "error"; message: string };

/**
 * Check work as it crosses to the worker. A byte array is sent as a reference, three numbers: the
 * id of the SharedArrayBuffer it lies in (the disk's journal slabs are shared, see _sim_disk.ts;
 * each is sent once, and the worker keeps it), its offset and its length; or, for bytes in an
 * ordinary buffer, -1, the index of its copy in the message's pack, and 0.
 */
export type WireOp =
  | { op: "records"; host: string; stream: string; base: number; refs: number[] }
  | { op: "cut"; host: string; lengths: [string, number][] }
  | { op: "patch"; host: string; stream: string; pos: number; refs: number[] }
  | {
    op: "check";
    id: number;
    host: string;
    when: string;
    head: number;
    instances: RecoveryInstance[];
    /** A full check's journals: stream, positions and the records' bytes. */
    journals: [string, number[], number[]][] | undefined;
  };

/** What the run sends the worker once it has its job. */
export type Request =
  | { type: "ops"; ops: WireOp[]; slabs: [number, SharedArrayBuffer][]; packed: Packed }
  | { type: "end" };

/** Check work for the worker: byte arrays by reference into shared slabs, or copied. */
export function wire(
  ops: readonly CheckOp[],
  slabIds: Map<SharedArrayBuffer, number>,
): Request & { type: "ops" } {
  const items: Uint8Array[] = [];
  const slabs: [number, SharedArrayBuffer][] = [];
  const refsOf = (data: readonly Uint8Array[]) => {
    const refs: number[] = [];
    for (const d of data) {
      const buf = d.buffer;
      if (buf instanceof SharedArrayBuffer) {
        let id = slabIds.get(buf);
        if (id === undefined) {
          slabIds.set(buf, id = slabIds.size);
          slabs.push([id, buf]);
        }
        refs.push(id, d.byteOffset, d.byteLength);
      } else {
        refs.push(-1, items.length, 0);
        items.push(d);
      }
    }
    return refs;
  };
  const out: WireOp[] = [];
  for (const op of ops) {
    if (op.op === "records") {
      const { host, stream, base } = op;
      out.push({ op: "records", host, stream, base, refs: refsOf(op.data) });
    } else if (op.op === "cut") {
      out.push({ op: "cut", host: op.host, lengths: [...op.lengths] });
    } else if (op.op === "patch") {
      const { host, stream, pos } = op;
      out.push({ op: "patch", host, stream, pos, refs: refsOf([op.data]) });
    } else {
      const c = op.check;
      let journals: [string, number[], number[]][] | undefined;
      if (c.journals) {
        journals = [];
        for (const [stream, records] of c.journals) {
          journals.push([stream, records.map((r) => r.pos), refsOf(records.map((r) => r.data))]);
        }
      }
      out.push({
        op: "check",
        id: op.id,
        host: c.host,
        when: c.when,
        head: c.head,
        instances: c.instances,
        journals,
      });
    }
  }
  return { type: "ops", ops: out, slabs, packed: pack([], items) };
}

/** The check work of a Request, as the worker runs it; `slabs` keeps the shared slabs by id. */
export function unwire(
  req: Request & { type: "ops" },
  slabs: Map<number, SharedArrayBuffer>,
): CheckOp[] {
  for (const [id, buf] of req.slabs) slabs.set(id, buf);
  const items = unpack(req.packed);
  const bytes = (refs: number[]) => {
    const out: Uint8Array[] = [];
    for (let i = 0; i < refs.length; i += 3) {
      const id = refs[i]!, at = refs[i + 1]!;
      out.push(id < 0 ? items[at]! : new Uint8Array(slabs.get(id)!, at, refs[i + 2]!));
    }
    return out;
  };
  return req.ops.map((op): CheckOp => {
    if (op.op === "records") {
      return {
        op: "records",
        host: op.host,
        stream: op.stream,
        base: op.base,
        data: bytes(op.refs),
      };
    }
    if (op.op === "cut") return { op: "cut", host: op.host, lengths: new Map(op.lengths) };
    if (op.op === "patch") {
      const [data] = bytes(op.refs);
      return { op: "patch", host: op.host, stream: op.stream, pos: op.pos, data: data! };
    }
    const check: RecoveryCheck = {
      host: op.host,
      when: op.when,
      head: op.head,
      instances: op.instances,
    };
    if (op.journals) {
      check.journals = new Map();
      for (const [stream, positions, refs] of op.journals) {
        const data = bytes(refs);
        check.journals.set(
          stream,
          positions.map((pos, i): JournalRecord => ({ stream, pos, data: data[i]! })),
        );
      }
    }
    return { op: "check", id: op.id, check };
  });
}

/** Packs byte strings into one buffer, each at an 8-byte aligned offset (columns stay aligned). */
export function pack(ids: string[], items: Uint8Array[]): Packed {
  const starts = new Uint32Array(items.length);
  const lengths = new Uint32Array(items.length);
  let size = 0;
  for (let i = 0; i < items.length; i++) {
    starts[i] = size;
    lengths[i] = items[i]!.byteLength;
    size = (size + items[i]!.byteLength + 7) & ~7;
  }
  const buf = new ArrayBuffer(size);
  const bytes = new Uint8Array(buf);
  for (let i = 0; i < items.length; i++) bytes.set(items[i]!, starts[i]!);
  return { ids, starts, lengths, buf };
}

/**
 * Packs a chunk of frames into one SharedArrayBuffer (each 8-byte aligned, as `pack` does) with
 * room right before each for the head of the journal record on its subject: a run's journals then
 * hold frames where the log holds them, head included, instead of copies (see SimDisk), and the
 * worker reads them there. The entries are repointed at their bytes in the pack.
 */
export function packFrames(
  chunk: FeedEntry[],
): { packed: Packed<SharedArrayBuffer>; headroom: number[] } {
  const starts = new Uint32Array(chunk.length);
  const lengths = new Uint32Array(chunk.length);
  const headroom: number[] = [];
  let size = 0;
  for (let i = 0; i < chunk.length; i++) {
    const room = frameRecordHeadBytes(chunk[i]!.subject);
    headroom.push(room);
    starts[i] = (size + room + 7) & ~7;
    lengths[i] = chunk[i]!.data.byteLength;
    size = starts[i]! + lengths[i]!;
  }
  const buf = new SharedArrayBuffer(size);
  for (let i = 0; i < chunk.length; i++) {
    const e = chunk[i]!;
    const data = new Uint8Array(buf, starts[i]!, lengths[i]!);
    data.set(e.data);
    e.data = data;
    e.headroom = headroom[i]!;
  }
  return { packed: { ids: [], starts, lengths, buf }, headroom };
}

export function unpack(p: Packed<ArrayBuffer | SharedArrayBuffer>): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < p.starts.length; i++) {
    out.push(new Uint8Array(p.buf, p.starts[i]!, p.lengths[i]!));
  }
  return out;
}

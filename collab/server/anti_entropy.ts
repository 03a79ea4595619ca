/**
 * Anti-entropy between collab nodes. Every `anti_entropy_ms` on average (each period drawn from
 * half to one and a half of it, so that nodes started together do not all publish at once), each
 * node publishes a digest of each session it has loaded on `troupe.sys.collab.<session>.digest`:
 * its name, its state vector (which updates it holds, per Yjs client) and a SHA-256 of its delete
 * set (a state vector says nothing about deletions). A node that receives another's digest and
 * holds updates the sender lacks, or a different delete set, publishes the difference as a
 * `repair` for that node on `troupe.collab.<session>`, where every node merges it (merging is
 * idempotent), journals it and relays it to its clients. A node counts as stale only when two of
 * its digests in a row lack what this node held when the first came (the first of them may just
 * have crossed an update on its way). So a node that missed an update on the bus (a dropped
 * message, a partition, an update dropped as not yet integrable) converges within about two
 * periods, without a client's sync.
 *
 * With N nodes, every node holding what a stale node lacks would answer its digest: N-1 copies of
 * the same repair. Instead the nodes that could answer (this one and the other nodes it has had a
 * digest from lately, less the stale one) are ranked by a hash of the session, the stale node and
 * their name, the same order on every node; the first answers at once, the k-th waits k hold-offs
 * and answers only what no repair for that node, seen meanwhile, has carried. A node that ranks
 * higher but lacks the update just sends nothing, and the next one answers a hold-off later. A
 * digest that comes while a repair for its node is on its way (sent or seen within a hold-off)
 * is answered only beyond what that repair carried. In sync, a round costs one digest per node
 * and session and nothing else.
 *
 * Nodes of different versions: a digest says which peer message kinds its node reads, in the
 * header `troupe-collab-speaks` (its bytes stay what the version before read, which ignores
 * headers). A digest without it comes from that version, which reads `repair`; a digest without
 * a node name comes from the version before that (`LEGACY_NODE`), which drops `repair` as
 * malformed and answers no digest it cannot read. A repair goes out as `repair` only when every
 * node heard from lately reads it (the message reaches them all); otherwise as an `update`, which
 * every version merges, with the header `troupe-collab-repair-for` naming its target, so that the
 * nodes that read headers still count it against what they owe.
 */
import { createHash } from "node:crypto";
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import * as Y from "yjs";
import {
  type Bus,
  type BusHeaders,
  type BusSubscription,
  collabSubject,
  encodePeerMessage,
  PEER_KINDS,
  sysSubject,
} from "../../protocol/mod.ts";
import type { Room } from "./_room.ts";

/** The subject of a session's digests. */
export function digestSubject(session: string): string {
  return sysSubject("collab", session, "digest");
}

/** The header of a digest listing the peer message kinds its node reads, comma-separated. */
export const SPEAKS_HEADER = "troupe-collab-speaks";
/** The header of an `update` that is a repair for the node it names (sent so to older nodes). */
export const REPAIR_FOR_HEADER = "troupe-collab-repair-for";
/** The name a digest of the oldest format (state vector and delete-set hash, no node) gets. */
export const LEGACY_NODE = "";

/** What a node without the speaks header reads: every kind but `repair` if its digest names no
 *  node (the oldest format), every kind of this version otherwise (the version that added names
 *  and `repair`). */
function speaksOf(headers: BusHeaders | undefined, digest: Digest): ReadonlySet<string> {
  const listed = headerOf(headers, SPEAKS_HEADER);
  if (listed !== undefined) return new Set(listed.split(","));
  if (digest.node === LEGACY_NODE) return new Set(["update", "awareness", "state"]);
  return new Set(PEER_KINDS);
}

/** The value of header `name` (NATS may change a header name's case). */
export function headerOf(headers: BusHeaders | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

/** A node's view of a document: its name, state vector and the SHA-256 of its delete set. */
export interface Digest {
  node: string;
  stateVector: Uint8Array;
  deleteSetHash: Uint8Array;
}

/** The digest of `doc` held by `node`. */
export function digestOf(doc: Y.Doc, node: string): Digest {
  return { node, stateVector: Y.encodeStateVector(doc), deleteSetHash: deleteSetHash(doc) };
}

/**
 * SHA-256 of `doc`'s delete set as Yjs encodes it (clients and ranges sorted and merged): the
 * update of everything past the document's own state vector holds no struct, only that.
 */
function deleteSetHash(doc: Y.Doc): Uint8Array {
  const onlyDeletes = Y.encodeStateAsUpdate(doc, Y.encodeStateVector(doc));
  return new Uint8Array(createHash("sha256").update(onlyDeletes).digest());
}

/** Encodes a digest: varstring node, var bytes state vector, var bytes delete-set hash. */
export function encodeDigest(d: Digest): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarString(e, d.node);
  encoding.writeVarUint8Array(e, d.stateVector);
  encoding.writeVarUint8Array(e, d.deleteSetHash);
  return encoding.toUint8Array(e);
}

/**
 * Decodes a digest; one of the oldest format (no node name) gets the node `LEGACY_NODE`. Throws
 * naming what is wrong.
 */
export function decodeDigest(bytes: Uint8Array): Digest {
  try {
    return decodeDigestOf(bytes, true);
  } catch (err) {
    try {
      return decodeDigestOf(bytes, false);
    } catch {
      throw err;
    }
  }
}

function decodeDigestOf(bytes: Uint8Array, named: boolean): Digest {
  const d = decoding.createDecoder(bytes);
  const node = named ? decoding.readVarString(d) : LEGACY_NODE;
  const stateVector = decoding.readVarUint8Array(d);
  const deleteSetHash = decoding.readVarUint8Array(d);
  if (decoding.hasContent(d)) throw new Error(`digest has ${bytes.length - d.pos} trailing bytes`);
  if (deleteSetHash.length !== 32) {
    throw new Error(`digest's delete-set hash must be 32 bytes, got ${deleteSetHash.length}`);
  }
  Y.decodeStateVector(stateVector); // throws on a malformed one
  return { node, stateVector, deleteSetHash };
}

/**
 * What `doc` holds that a node with state vector `stateVector` and delete-set hash `dsHash`
 * lacks, as one update; undefined when nothing (no struct past the state vector and, given a
 * hash, the same delete set; without one, only structs count).
 */
export function differenceFor(
  doc: Y.Doc,
  stateVector: Uint8Array,
  dsHash: Uint8Array | undefined,
): Uint8Array | undefined {
  const diff = Y.encodeStateAsUpdate(doc, stateVector);
  const { structs } = Y.decodeUpdate(diff);
  if (structs.length > 0) return diff;
  if (dsHash === undefined) return undefined;
  const ours = deleteSetHash(doc);
  if (ours.every((b, i) => b === dsHash[i])) return undefined;
  return diff;
}

/**
 * The order in which `nodes` answer `target`'s digest of `session`: by a 32-bit FNV-1a hash of
 * the three names (then by name), so that each stale node has its own first answerer and every
 * node computes the same order.
 */
export function repairOrder(session: string, target: string, nodes: Iterable<string>): string[] {
  const keyed = [...nodes].map((n) => ({ n, h: fnv1a(`${session}\u0000${target}\u0000${n}`) }));
  keyed.sort((a, b) => a.h - b.h || (a.n < b.n ? -1 : a.n > b.n ? 1 : 0));
  return keyed.map((k) => k.n);
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Options of `AntiEntropy`. */
export interface AntiEntropyOptions {
  bus: Bus;
  nodeId: string;
  /** The mean time between a node's digests (each period drawn from 0.5 to 1.5 times it). */
  periodMs: number;
  /** How long each rank waits for the ones before it to answer a digest. */
  holdoffMs: number;
  /** Milliseconds (default Date.now). */
  now?(): number;
  /** A uniform number in [0, 1) (default Math.random): the periods' jitter. */
  random?(): number;
  /** Called with each repair sent to another node (metrics). */
  onRepair?(session: string, bytes: number): void;
  /** Called when a repair is not sent because others' repairs covered it (metrics). */
  onRepairCovered?(session: string): void;
  /** Called with each repair sent as an `update`, because a node heard from lately does not read
   *  `repair` (metrics). */
  onRepairAsUpdate?(session: string): void;
  /** Called when a digest cannot be read (metrics). */
  onMalformed?(session: string, err: Error): void;
}

/** A repair this node owes a stale node once its hold-off has passed. */
interface Owed {
  timer: ReturnType<typeof setTimeout>;
  /** The stale node's digest (the newest, when it sent another meanwhile). */
  digest: Digest;
  /** When the hold-off began: repairs for the node seen since count against what is owed. */
  sinceMs: number;
}

/** A repair for a node, sent or seen, and what it carried. */
interface Sent {
  atMs: number;
  span: UpdateSpan;
}

/** What this node held when another node's last digest came. */
interface Previous {
  ourStateVector: Map<number, number>;
  /** Whether our delete set differed from that digest's. */
  deletesDiffered: boolean;
}

interface RoomState {
  room: Room;
  /** When each other node's last digest of this session came (ms). */
  peers: Map<string, number>;
  previous: Map<string, Previous>;
  owed: Map<string, Owed>;
  /** Repairs for each node, sent or seen, within the last few hold-offs. */
  repairs: Map<string, Sent[]>;
  /** The peer message kinds each node reads, from its last digest. */
  speaks: Map<string, ReadonlySet<string>>;
}

/** The anti-entropy of one node's loaded sessions. */
export class AntiEntropy {
  #options: AntiEntropyOptions;
  #rooms = new Map<string, RoomState>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #now: () => number;
  #random: () => number;

  constructor(options: AntiEntropyOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  /** Publishes digests, each period drawn anew, until `stop`. */
  start(): void {
    if (this.#timer !== undefined) return;
    const next = () => {
      const ms = this.#options.periodMs * (0.5 + this.#random());
      this.#timer = setTimeout(() => {
        this.tick();
        next();
      }, ms);
    };
    next();
  }

  /** Stops the digests and every repair still held off. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const s of this.#rooms.values()) for (const o of s.owed.values()) clearTimeout(o.timer);
  }

  /** Takes part in `room`'s anti-entropy until the returned subscription is unsubscribed. */
  attach(room: Room): BusSubscription {
    const state: RoomState = {
      room,
      peers: new Map(),
      previous: new Map(),
      owed: new Map(),
      repairs: new Map(),
      speaks: new Map(),
    };
    this.#rooms.set(room.session, state);
    const sub = this.#options.bus.subscribe(digestSubject(room.session), (msg) => {
      if (room.doc.isDestroyed) return;
      let theirs: Digest;
      try {
        theirs = decodeDigest(msg.data);
      } catch (err) {
        this.#options.onMalformed?.(room.session, err as Error);
        return;
      }
      if (theirs.node === this.#options.nodeId) return;
      state.speaks.set(theirs.node, speaksOf(msg.headers, theirs));
      this.#onDigest(state, theirs);
    });
    return {
      unsubscribe: () => {
        for (const o of state.owed.values()) clearTimeout(o.timer);
        if (this.#rooms.get(room.session) === state) this.#rooms.delete(room.session);
        sub.unsubscribe();
      },
    };
  }

  /** Publishes the digest of every attached session (the timer calls this). */
  tick(): void {
    for (const { room } of this.#rooms.values()) {
      if (room.doc.isDestroyed) continue;
      const digest = encodeDigest(digestOf(room.doc, this.#options.nodeId));
      const headers = { [SPEAKS_HEADER]: PEER_KINDS.join(",") };
      this.#options.bus.publish(digestSubject(room.session), digest, { headers });
    }
  }

  /** Another node's repair for `target` of `session` was seen (its update already merged here). */
  repairSeen(session: string, target: string, update: Uint8Array): void {
    const state = this.#rooms.get(session);
    if (!state) return;
    try {
      this.#remember(state, target, Y.parseUpdateMeta(update));
    } catch {
      // Not a readable update: it carried nothing.
    }
  }

  #remember(state: RoomState, target: string, span: UpdateSpan): void {
    const now = this.#now();
    const keepMs = 8 * this.#options.holdoffMs;
    const kept = (state.repairs.get(target) ?? []).filter((r) => now - r.atMs <= keepMs);
    kept.push({ atMs: now, span });
    state.repairs.set(target, kept);
  }

  /** Spans of the repairs for `target` sent or seen since `sinceMs`. */
  #spansSince(state: RoomState, target: string, sinceMs: number): UpdateSpan[] {
    return (state.repairs.get(target) ?? []).filter((r) => r.atMs >= sinceMs).map((r) => r.span);
  }

  #onDigest(state: RoomState, theirs: Digest): void {
    const { nodeId, holdoffMs } = this.#options;
    const now = this.#now();
    state.peers.set(theirs.node, now);
    const owed = state.owed.get(theirs.node);
    if (owed) {
      owed.digest = theirs; // answered when its hold-off ends, against the newest digest
      return;
    }
    if (!this.#staleTwice(state, theirs)) return;
    // A repair sent or seen within a hold-off may still be on its way: what it carried counts.
    if (this.#lacking(state, theirs, now - holdoffMs) === undefined) return;
    // Those that could answer: this node and the others heard from within three periods.
    const aliveMs = 3 * this.#options.periodMs;
    const candidates = [nodeId];
    for (const [node, at] of state.peers) {
      // A node of the oldest format answers no digest of this version: it never repairs.
      if (node !== theirs.node && node !== LEGACY_NODE && now - at <= aliveMs) {
        candidates.push(node);
      }
    }
    const rank = repairOrder(state.room.session, theirs.node, candidates).indexOf(nodeId);
    if (rank === 0) return this.#repair(state, theirs, now - holdoffMs);
    const timer = setTimeout(() => {
      const o = state.owed.get(theirs.node);
      state.owed.delete(theirs.node);
      if (o && !state.room.doc.isDestroyed) this.#repair(state, o.digest, o.sinceMs);
    }, rank * holdoffMs);
    state.owed.set(theirs.node, { timer, digest: theirs, sinceMs: now });
  }

  /**
   * Whether the node of `theirs` lacks what this node held when that node's previous digest came
   * (or both digests showed another delete set). A digest made while an update was on its way to
   * its node lacks that update without that node being stale; the next digest has it. So a node
   * is repaired on its second digest in a row that lacks the same thing, not on the first.
   */
  #staleTwice(state: RoomState, theirs: Digest): boolean {
    const doc = state.room.doc;
    const before = state.previous.get(theirs.node);
    const ds = deleteSetHash(doc);
    const deletesDiffer = ds.some((b, i) => b !== theirs.deleteSetHash[i]);
    state.previous.set(theirs.node, {
      ourStateVector: Y.decodeStateVector(Y.encodeStateVector(doc)),
      deletesDiffered: deletesDiffer,
    });
    if (!before) return false;
    if (before.deletesDiffered && deletesDiffer) return true;
    const theirSv = Y.decodeStateVector(theirs.stateVector);
    for (const [client, clock] of before.ourStateVector) {
      if (clock > (theirSv.get(client) ?? 0)) return true;
    }
    return false;
  }

  /**
   * What the node of `theirs` lacks beyond the repairs for it sent or seen since `sinceMs`.
   * Where there were such repairs, only structs count: each repair carries its sender's whole
   * delete set, and a deletion none carried shows in that node's next digest.
   */
  #lacking(state: RoomState, theirs: Digest, sinceMs: number): Uint8Array | undefined {
    const spans = this.#spansSince(state, theirs.node, sinceMs);
    const doc = state.room.doc;
    if (spans.length === 0) return differenceFor(doc, theirs.stateVector, theirs.deleteSetHash);
    return differenceFor(doc, coveredStateVector(theirs.stateVector, spans), undefined);
  }

  /** Sends `theirs`'s node what it lacks beyond the repairs for it sent or seen since `sinceMs`. */
  #repair(state: RoomState, theirs: Digest, sinceMs: number): void {
    const { room } = state;
    const diff = this.#lacking(state, theirs, sinceMs);
    if (!diff) {
      if (this.#spansSince(state, theirs.node, sinceMs).length) {
        this.#options.onRepairCovered?.(room.session);
      }
      return;
    }
    const { bus, nodeId } = this.#options;
    this.#remember(state, theirs.node, Y.parseUpdateMeta(diff));
    this.#options.onRepair?.(room.session, diff.length);
    const subject = collabSubject(room.session);
    if (this.#allRead(state, "repair")) {
      const m = encodePeerMessage({
        node: nodeId,
        kind: "repair",
        target: theirs.node,
        payload: diff,
      });
      return bus.publish(subject, m);
    }
    this.#options.onRepairAsUpdate?.(room.session);
    const headers = { [REPAIR_FOR_HEADER]: theirs.node };
    bus.publish(subject, encodePeerMessage({ node: nodeId, kind: "update", payload: diff }), {
      headers,
    });
  }

  /** Whether every node heard from within three periods reads peer messages of `kind`. */
  #allRead(state: RoomState, kind: string): boolean {
    const since = this.#now() - 3 * this.#options.periodMs;
    for (const [node, at] of state.peers) {
      if (at >= since && !state.speaks.get(node)?.has(kind)) return false;
    }
    return true;
  }
}

/** The clocks an update's structs span, per Yjs client (`Y.parseUpdateMeta`). */
interface UpdateSpan {
  from: Map<number, number>;
  to: Map<number, number>;
}

/**
 * The state vector of a node that held `stateVector` and then merged updates spanning `spans`:
 * a span counts for a client where it starts at or below what the node holds of that client.
 */
function coveredStateVector(stateVector: Uint8Array, spans: UpdateSpan[]): Uint8Array {
  const held = Y.decodeStateVector(stateVector);
  for (const { from, to } of spans) {
    for (const [client, end] of to) {
      const have = held.get(client) ?? 0;
      if ((from.get(client) ?? 0) <= have && end > have) held.set(client, end);
    }
  }
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, held.size);
  for (const [client, clock] of held) {
    encoding.writeVarUint(e, client);
    encoding.writeVarUint(e, clock);
  }
  return encoding.toUint8Array(e);
}

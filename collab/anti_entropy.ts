/**
 * Anti-entropy between collab nodes: every `anti_entropy_ms`, each node publishes a digest of each
 * session it has loaded on `troupe.sys.collab.<session>.digest`: its state vector (which updates
 * it holds, per Yjs client) and a SHA-256 of its delete set (a state vector says nothing about
 * deletions). A node that receives a digest and holds updates the sender lacks, or a different
 * delete set, publishes the difference as an ordinary update on `troupe.collab.<session>`, where
 * every node merges it (merging is idempotent), journals it and relays it to its clients. So a
 * node that missed an update on the bus (a dropped message, a partition, an update dropped as not
 * yet integrable) converges within one period plus a round trip, without a client's sync. In
 * sync, a round costs one digest per node and session and nothing else: a node's own digest, and
 * a digest equal to its own, send nothing.
 */
import { createHash } from "node:crypto";
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import * as Y from "yjs";
import type { Bus, BusSubscription } from "../protocol/mod.ts";
import { encodePeerMessage } from "./_protocol.ts";
import type { Room } from "./_room.ts";

/** The subject of a session's digests. */
export function digestSubject(session: string): string {
  return `troupe.sys.collab.${session}.digest`;
}

/** A node's view of a document: its state vector and the SHA-256 of its delete set. */
export interface Digest {
  stateVector: Uint8Array;
  deleteSetHash: Uint8Array;
}

/** The digest of `doc`. */
export function digestOf(doc: Y.Doc): Digest {
  return { stateVector: Y.encodeStateVector(doc), deleteSetHash: deleteSetHash(doc) };
}

/**
 * SHA-256 of `doc`'s delete set as Yjs encodes it (clients and ranges sorted and merged): the
 * update of everything past the document's own state vector holds no struct, only that.
 */
function deleteSetHash(doc: Y.Doc): Uint8Array {
  const onlyDeletes = Y.encodeStateAsUpdate(doc, Y.encodeStateVector(doc));
  return new Uint8Array(createHash("sha256").update(onlyDeletes).digest());
}

export function encodeDigest(d: Digest): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint8Array(e, d.stateVector);
  encoding.writeVarUint8Array(e, d.deleteSetHash);
  return encoding.toUint8Array(e);
}

/** Decodes a digest; throws naming what is wrong. */
export function decodeDigest(bytes: Uint8Array): Digest {
  const d = decoding.createDecoder(bytes);
  const stateVector = decoding.readVarUint8Array(d);
  const deleteSetHash = decoding.readVarUint8Array(d);
  if (decoding.hasContent(d)) throw new Error(`digest has ${bytes.length - d.pos} trailing bytes`);
  if (deleteSetHash.length !== 32) {
    throw new Error(`digest's delete-set hash must be 32 bytes, got ${deleteSetHash.length}`);
  }
  Y.decodeStateVector(stateVector); // throws on a malformed one
  return { stateVector, deleteSetHash };
}

/**
 * What `room` holds that a node with digest `theirs` lacks, as one update; undefined when nothing
 * (no struct past their state vector, the same delete set).
 */
export function differenceFor(room: Room, theirs: Digest): Uint8Array | undefined {
  const diff = Y.encodeStateAsUpdate(room.doc, theirs.stateVector);
  const { structs } = Y.decodeUpdate(diff);
  if (structs.length > 0) return diff;
  const ours = deleteSetHash(room.doc);
  if (ours.every((b, i) => b === theirs.deleteSetHash[i])) return undefined;
  return diff;
}

/** Options of `AntiEntropy`. */
export interface AntiEntropyOptions {
  bus: Bus;
  nodeId: string;
  /** Called with each update sent to repair another node (metrics). */
  onRepair?(session: string, bytes: number): void;
  /** Called when a digest cannot be read (metrics). */
  onMalformed?(session: string, err: Error): void;
}

/** The anti-entropy of one node's loaded sessions. */
export class AntiEntropy {
  #options: AntiEntropyOptions;
  #rooms = new Set<Room>();

  constructor(options: AntiEntropyOptions) {
    this.#options = options;
  }

  /** Takes part in `room`'s anti-entropy until the returned subscription is unsubscribed. */
  attach(room: Room): BusSubscription {
    const { bus, nodeId } = this.#options;
    this.#rooms.add(room);
    const sub = bus.subscribe(digestSubject(room.session), (msg) => {
      if (room.doc.isDestroyed) return;
      let theirs: Digest;
      try {
        theirs = decodeDigest(msg.data);
      } catch (err) {
        this.#options.onMalformed?.(room.session, err as Error);
        return;
      }
      const diff = differenceFor(room, theirs);
      if (!diff) return;
      this.#options.onRepair?.(room.session, diff.length);
      bus.publish(
        `troupe.collab.${room.session}`,
        encodePeerMessage({ node: nodeId, kind: "update", payload: diff }),
      );
    });
    return {
      unsubscribe: () => {
        this.#rooms.delete(room);
        sub.unsubscribe();
      },
    };
  }

  /** Publishes the digest of every attached session (the timer calls this). */
  tick(): void {
    for (const room of this.#rooms) {
      if (room.doc.isDestroyed) continue;
      this.#options.bus.publish(digestSubject(room.session), encodeDigest(digestOf(room.doc)));
    }
  }
}

/**
 * How a room relays awareness (who is there, their cursors) to its connections and to the other
 * nodes: in batches, one message per connection per batch holding every client that changed,
 * because relaying each of N clients' messages to every connection at once costs N² sends.
 *
 * A change (a client joined, left, or set a different state) goes out within `batchMs`. A renewal
 * (a client re-sending its unchanged state with a higher clock, which y-protocols does every 15 s
 * so that the others do not drop it after 30 s) goes to the connections within `renewalBatchMs`,
 * a longer wait: nobody sees a renewal, it only has to arrive well within the 30 s. The stock
 * y-websocket client answers every awareness message that changes its copy by sending those
 * clients' states back (its awareness handler ignores the origin), so each batch costs each
 * client an apply, an encode and a send, and the server a receive. At 500 clients the renewals of
 * one 15 s period came in about 13 batches of 50 ms, about 6,500 messages each way; gathered over
 * a second they are a few. Other nodes get renewals at the change cadence: they batch them again
 * for their own connections.
 */
import { type Awareness, encodeAwarenessUpdate } from "y-protocols/awareness";

/** What the relay needs from its room. */
export interface AwarenessRelayOptions {
  awareness: Awareness;
  /** Changes are sent this often at most (ms). */
  batchMs: number;
  /** Renewals are sent this often at most (ms). */
  renewalBatchMs: number;
  /** Sends an awareness update to every connection. */
  toConns(update: Uint8Array): void;
  /** Sends an awareness update to the other nodes. */
  toPeers(update: Uint8Array): void;
}

interface AwarenessChange {
  added: number[];
  updated: number[];
  removed: number[];
}

/** Batches a room's awareness traffic: changes soon, renewals later. */
export class AwarenessRelay {
  #options: AwarenessRelayOptions;
  /** Clients whose state changed, for the next change batch. */
  #changed = new Set<number>();
  /** Clients that only renewed, for the next renewal batch. */
  #renewed = new Set<number>();
  /** Clients that changed or renewed on this node, for the other nodes. */
  #peer = new Set<number>();
  /** The clients the `change` event just named as updated with a different state. */
  #differ = new Set<number>();
  #changeTimer: ReturnType<typeof setTimeout> | undefined;
  #renewalTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(options: AwarenessRelayOptions) {
    this.#options = options;
    // y-protocols emits `change` (states that differ) just before `update` (every newer clock).
    options.awareness.on("change", (change: AwarenessChange) => {
      for (const id of change.updated) this.#differ.add(id);
    });
  }

  /** Notes an awareness `update` event; `remote` when it came from another node. */
  noted(change: AwarenessChange, remote: boolean): void {
    if (this.#closed) return;
    for (const id of change.added.concat(change.removed)) this.#change(id);
    for (const id of change.updated) {
      if (this.#differ.has(id) || this.#changed.has(id)) this.#change(id);
      else this.#renewed.add(id);
    }
    this.#differ.clear();
    if (!remote) {
      for (const id of change.added.concat(change.updated, change.removed)) this.#peer.add(id);
    }
    if ((this.#changed.size || this.#peer.size) && this.#changeTimer === undefined) {
      this.#changeTimer = setTimeout(() => this.#flushChanges(), this.#options.batchMs);
    }
    if (this.#renewed.size && this.#renewalTimer === undefined) {
      this.#renewalTimer = setTimeout(() => this.#flushRenewals(), this.#options.renewalBatchMs);
    }
  }

  /** Stops: nothing more is sent. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#changeTimer);
    clearTimeout(this.#renewalTimer);
  }

  #change(id: number): void {
    this.#changed.add(id);
    // The change batch carries the client's latest clock, so a pending renewal of it is moot.
    this.#renewed.delete(id);
  }

  #flushChanges(): void {
    this.#changeTimer = undefined;
    const { awareness, toConns, toPeers } = this.#options;
    if (this.#changed.size) toConns(encodeAwarenessUpdate(awareness, [...this.#changed]));
    if (this.#peer.size) toPeers(encodeAwarenessUpdate(awareness, [...this.#peer]));
    this.#changed.clear();
    this.#peer.clear();
  }

  #flushRenewals(): void {
    this.#renewalTimer = undefined;
    if (this.#renewed.size) {
      this.#options.toConns(encodeAwarenessUpdate(this.#options.awareness, [...this.#renewed]));
    }
    this.#renewed.clear();
  }
}

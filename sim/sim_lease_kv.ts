/**
 * The simulator's lease bucket: an in-memory key-value store with what the NATS bucket of the
 * real cluster gives the lease code (lease_bucket.ts), on virtual time. One stream of revisions
 * for every key (an update names the key's revision, as a JetStream expected-last-subject-sequence
 * does), history 1, and the bucket's `max_age` as every entry's time to live: an entry older than
 * the TTL on the scheduler's clock is gone (a lease not renewed expires; so does a delete marker).
 * The values are the protocol's encoded leases and presences, so what the hosts store and read is
 * what they would in NATS. Each host reaches the bucket through a `SimLeaseLink` (a request's
 * round trip: cut off, paused, on time), and through `storeFor` sees a `LeaseStore`, the interface
 * the real `PartitionLeases` keeps its leases with. The bucket also keeps, per partition, the
 * newest epoch claimed: what the simulator's one-writer check compares every write with.
 */
import type { HeldLease, LeaseStore, LeaseView } from "../actors/runtime/mod.ts";
import {
  decodeHostPresence,
  decodePartitionLease,
  encodeHostPresence,
  encodePartitionLease,
  type PartitionLease,
} from "../protocol/mod.ts";
import type { Scheduler } from "./scheduler.ts";

/** How one host reaches the bucket. */
export interface SimLeaseLink {
  /**
   * Runs `op` at the server as a request from this host would (when it arrives) and hands its
   * result back (when the reply does); rejects when the host cannot reach NATS.
   */
  request<T>(op: () => T): Promise<T>;
}

/** One key's latest entry. */
interface Entry {
  value: Uint8Array;
  revision: number;
  op: "PUT" | "DEL";
  storedUs: number;
}

/** A compare-and-set that lost: what the real bucket's `isWrongSequence` recognises. */
export class WrongSequenceError extends Error {
  override name = "WrongSequenceError";
  readonly code = 10071;
}

/** The in-memory lease bucket. */
export class SimLeaseKv {
  readonly ttlMs: number;
  readonly #scheduler: Scheduler;
  readonly #entries = new Map<string, Entry>();
  /** The stream's last revision (kept when entries expire, as a stream's last_seq is). */
  #seq = 0;
  /** Per partition, the newest epoch claimed. */
  readonly #epochs = new Map<number, number>();

  constructor(scheduler: Scheduler, options: { ttlMs: number }) {
    if (!(options.ttlMs > 0 && Number.isFinite(options.ttlMs))) {
      throw new RangeError(`SimLeaseKv option "ttlMs" must be > 0, got ${options.ttlMs}`);
    }
    this.#scheduler = scheduler;
    this.ttlMs = options.ttlMs;
  }

  /** The newest epoch claimed for `partition` (0: never claimed). */
  newestEpoch(partition: number): number {
    return this.#epochs.get(partition) ?? 0;
  }

  /** The stream's last revision. */
  get lastRevision(): number {
    return this.#seq;
  }

  /** The key's entry, unless it expired (which removes it). */
  get(key: string): Entry | undefined {
    const e = this.#entries.get(key);
    if (e && this.#scheduler.nowUs - e.storedUs >= this.ttlMs * 1000) {
      this.#entries.delete(key);
      return undefined;
    }
    return e;
  }

  /** The live keys, sorted. */
  keys(): string[] {
    return [...this.#entries.keys()].filter((k) => this.get(k) !== undefined).sort();
  }

  /** Stores `value` under `key` when it is absent or deleted; its revision. */
  create(key: string, value: Uint8Array): number {
    const e = this.get(key);
    if (e && e.op === "PUT") throw new WrongSequenceError(`wrong last sequence: ${key} exists`);
    return this.#store(key, value, "PUT");
  }

  /** Stores `value` under `key` at `revision`; its new revision. */
  update(key: string, value: Uint8Array, revision: number): number {
    this.#expect(key, revision);
    return this.#store(key, value, "PUT");
  }

  /** Deletes `key` at `revision` (a delete marker). */
  delete(key: string, revision?: number): void {
    if (revision !== undefined) this.#expect(key, revision);
    this.#store(key, new Uint8Array(0), "DEL");
  }

  /** Stores `value` under `key` whatever it held. */
  put(key: string, value: Uint8Array): number {
    return this.#store(key, value, "PUT");
  }

  #expect(key: string, revision: number): void {
    const at = this.get(key)?.revision ?? 0;
    if (at !== revision) {
      throw new WrongSequenceError(`wrong last sequence: ${key} is at ${at}, not ${revision}`);
    }
  }

  #store(key: string, value: Uint8Array, op: Entry["op"]): number {
    const revision = ++this.#seq;
    this.#entries.set(key, { value, revision, op, storedUs: this.#scheduler.nowUs });
    return revision;
  }

  /** The bucket as `host`'s lease keeper sees it through `link`. */
  storeFor(link: SimLeaseLink): LeaseStore {
    return new LinkedStore(this, link, (p, epoch) => {
      if (epoch > this.newestEpoch(p)) this.#epochs.set(p, epoch);
    });
  }
}

/** A host's view of the bucket: the operations of lease_bucket.ts, each a request on its link. */
class LinkedStore implements LeaseStore {
  readonly ttlMs: number;
  readonly #kv: SimLeaseKv;
  readonly #link: SimLeaseLink;
  readonly #claimed: (partition: number, epoch: number) => void;

  constructor(
    kv: SimLeaseKv,
    link: SimLeaseLink,
    claimed: (partition: number, epoch: number) => void,
  ) {
    this.#kv = kv;
    this.#link = link;
    this.#claimed = claimed;
    this.ttlMs = kv.ttlMs;
  }

  view(): Promise<LeaseView> {
    return this.#link.request(() => {
      const view: LeaseView = { leases: new Map(), hosts: [], damaged: [] };
      for (const key of this.#kv.keys()) {
        const e = this.#kv.get(key)!;
        if (e.op !== "PUT") continue;
        if (key.startsWith("partition.")) {
          const lease = decodePartitionLease(e.value, `lease ${key}`);
          view.leases.set(lease.partition, { lease, revision: e.revision });
        } else if (key.startsWith("host.")) {
          view.hosts.push(decodeHostPresence(e.value, `presence ${key}`));
        }
      }
      return view;
    });
  }

  state(partition: number): Promise<"released" | "free" | "held"> {
    return this.#link.request(() => {
      const e = this.#kv.get(keyOf(partition));
      if (!e) return "free";
      return e.op === "PUT" ? "held" : "released";
    });
  }

  claim(partition: number, owner: string, nowMs: number): Promise<HeldLease | undefined> {
    return this.#link.request(() => {
      const lease: PartitionLease = {
        partition,
        owner,
        epoch: this.#kv.lastRevision + 1,
        renewedMs: nowMs,
      };
      try {
        const revision = this.#kv.create(keyOf(partition), encodePartitionLease(lease));
        this.#claimed(partition, lease.epoch);
        return { lease, revision };
      } catch (err) {
        if (err instanceof WrongSequenceError) return undefined;
        throw err;
      }
    });
  }

  renew(held: HeldLease, nowMs: number): Promise<HeldLease | undefined> {
    return this.#link.request(() => {
      const lease = { ...held.lease, renewedMs: nowMs };
      try {
        const key = keyOf(lease.partition);
        return {
          lease,
          revision: this.#kv.update(key, encodePartitionLease(lease), held.revision),
        };
      } catch (err) {
        if (err instanceof WrongSequenceError) return undefined;
        throw err;
      }
    });
  }

  release(held: HeldLease): Promise<boolean> {
    return this.#link.request(() => {
      try {
        this.#kv.delete(keyOf(held.lease.partition), held.revision);
        return true;
      } catch (err) {
        if (err instanceof WrongSequenceError) return false;
        throw err;
      }
    });
  }

  present(presence: Parameters<LeaseStore["present"]>[0]): Promise<void> {
    return this.#link.request(() => {
      this.#kv.put(`host.${presence.host}`, encodeHostPresence(presence));
    });
  }

  leave(host: string): Promise<void> {
    return this.#link.request(() => this.#kv.delete(`host.${host}`));
  }
}

function keyOf(partition: number): string {
  return `partition.${partition}`;
}

/**
 * The NATS key-value bucket that holds partition leases and host presence (`troupe_leases`): key
 * `partition.<n>` holds a partition's lease, key `host.<id>` a live host. Debian's nats-server 2.9
 * has no per-key TTL, so the bucket's `max_age` is the lease's time to live: every renewal is a new
 * revision, and a key not renewed within the TTL is removed by the server. Every claim and renewal
 * is a compare-and-set at the key's revision (`create` for a free key, `update` for a held one), so
 * of two hosts racing for a partition exactly one wins.
 *
 * Every call waits out a cluster's leader election (jetstream_retry.ts): the bucket's open for the
 * election budget, a lease's claim, renewal or release for half a TTL (a renewal late by more is
 * of no use: the lease's fence has run out). A compare-and-set that timed out is not sent again
 * (it may have been stored): a claim or a renewal reads the key back, and one the key holds
 * counts as stored; a claim the key does not hold fails, and the next look tries again. Every
 * call whose answer was lost with the connection's server fails at the disconnect, not after its
 * timeout (connection_loss.ts).
 */
import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  bytesEqual,
  decodeHostPresence,
  decodePartitionLease,
  decodeStageLease,
  encodeHostPresence,
  encodePartitionLease,
  encodeStageLease,
  type HostPresence,
  type PartitionLease,
  type StageLease,
  stageLeaseKey,
} from "../../../protocol/mod.ts";
import {
  ELECTION_BUDGET_MS,
  electionError,
  lostOnDisconnect,
  retryJetStream,
} from "../transport/mod.ts";

/** The bucket of leases. */
export const LEASE_BUCKET = "troupe_leases";

/** A lease as read, with the revision a renewal must name. */
export interface HeldLease {
  lease: PartitionLease;
  revision: number;
}

/** A stage's lease as read, with the revision a renewal must name. */
export interface HeldStageLease {
  lease: StageLease;
  revision: number;
}

/**
 * What a stage's lease keeper asks of the bucket (stage_lease.ts): the claim, renewal and
 * release of key `stage.<name>`, compare-and-set as a partition's.
 */
export interface StageLeaseStore {
  readonly ttlMs: number;
  stageLease(stage: string): Promise<HeldStageLease | undefined>;
  claimStage(stage: string, owner: string, nowMs: number): Promise<HeldStageLease | undefined>;
  renewStage(held: HeldStageLease, nowMs: number): Promise<HeldStageLease | undefined>;
  releaseStage(held: HeldStageLease): Promise<boolean>;
}

/** What the bucket holds at one look. */
export interface LeaseView {
  leases: Map<number, HeldLease>;
  hosts: HostPresence[];
  /** Keys whose value could not be decoded (key, why): reported, treated as held. */
  damaged: Array<{ key: string; reason: string }>;
}

/** Options of `LeaseBucket.open`. */
export interface LeaseBucketOptions {
  /** The lease time to live, ms: the bucket's max_age. */
  ttlMs: number;
  bucket?: string;
  /** How long the bucket's open waits out a cluster's leader election, ms: ELECTION_BUDGET_MS. */
  electionBudgetMs?: number;
  /** The bucket's replicas when it is created (`nats.replicas`): 1. */
  replicas?: number;
}

/**
 * What a host's lease keeper asks of the bucket (see PartitionLeases): the NATS bucket below, or
 * the simulator's in-memory one on virtual time.
 */
export interface LeaseStore {
  /** The lease time to live, ms. */
  readonly ttlMs: number;
  view(): Promise<LeaseView>;
  state(partition: number): Promise<"released" | "free" | "held">;
  claim(partition: number, owner: string, nowMs: number): Promise<HeldLease | undefined>;
  renew(held: HeldLease, nowMs: number): Promise<HeldLease | undefined>;
  release(held: HeldLease): Promise<boolean>;
  present(presence: HostPresence): Promise<void>;
  leave(host: string): Promise<void>;
}

/** The lease bucket in NATS. */
export class LeaseBucket implements LeaseStore, StageLeaseStore {
  readonly #kv: KV;
  /** The lease time to live, ms (the bucket's, which may predate this host's setting). */
  readonly ttlMs: number;

  readonly #keys: () => Promise<string[]>;
  readonly #nc: NatsConnection;

  private constructor(kv: KV, ttlMs: number, nc: NatsConnection, bucket: string) {
    this.#kv = kv;
    this.ttlMs = ttlMs;
    this.#nc = nc;
    this.#keys = () => keysOf(nc, bucket);
  }

  /** `call`, waiting out an election for half a TTL; `repeatable` when a timeout may be retried. */
  #retry<T>(what: string, call: () => Promise<T>, repeatable: boolean): Promise<T> {
    return retryJetStream(what, call, { budgetMs: this.ttlMs / 2, repeatable });
  }

  /**
   * Opens the bucket, creating it with max_age `ttlMs` when missing. A bucket made with another
   * TTL is an error naming both: hosts that disagree on the TTL would take each other's leases.
   */
  static async open(nc: NatsConnection, options: LeaseBucketOptions): Promise<LeaseBucket> {
    const name = options.bucket ?? LEASE_BUCKET;
    const { kv, status } = await retryJetStream(`open the lease bucket ${name}`, async () => {
      // Repeatable: creating a bucket that exists with these settings opens it.
      const kv = await new Kvm(nc).create(name, {
        history: 1,
        ttl: options.ttlMs,
        replicas: options.replicas ?? 1,
      });
      return { kv, status: await kv.status() };
    }, { budgetMs: options.electionBudgetMs ?? ELECTION_BUDGET_MS, repeatable: true });
    if (status.ttl !== options.ttlMs) {
      throw new Error(
        `Cannot use lease bucket ${name}: its TTL (max_age) is ${status.ttl} ms, this host's ` +
          `lease_ttl_ms is ${options.ttlMs}; every host of a cluster must use the same TTL`,
      );
    }
    return new LeaseBucket(kv, status.ttl, nc, name);
  }

  /**
   * The bucket as it is, without creating it (for `troupe status`); undefined when no host made it.
   */
  static async existing(
    nc: NatsConnection,
    bucket = LEASE_BUCKET,
  ): Promise<LeaseBucket | undefined> {
    try {
      const kv = await new Kvm(nc).open(bucket);
      const status = await kv.status();
      return new LeaseBucket(kv, status.ttl, nc, bucket);
    } catch (err) {
      if (/stream not found|not found/i.test((err as Error).message)) return undefined;
      throw err;
    }
  }

  /** Every lease and live host. */
  view(): Promise<LeaseView> {
    return this.#retry("read the lease bucket", () => this.#view(), true);
  }

  async #view(): Promise<LeaseView> {
    const view: LeaseView = { leases: new Map(), hosts: [], damaged: [] };
    await Promise.all((await this.#keys()).map(async (key) => {
      const e = await this.#kv.get(key);
      if (!e || e.operation !== "PUT") return;
      try {
        if (key.startsWith("partition.")) {
          const lease = decodePartitionLease(e.value, `lease ${key}`);
          view.leases.set(lease.partition, { lease, revision: e.revision });
        } else if (key.startsWith("host.")) {
          view.hosts.push(decodeHostPresence(e.value, `presence ${key}`));
        }
      } catch (err) {
        view.damaged.push({ key, reason: (err as Error).message });
      }
    }));
    view.hosts.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
    return view;
  }

  /**
   * Whether `partition`'s key was released (a delete marker), expired (absent) or is held: what
   * a claim says it did.
   */
  async state(partition: number): Promise<"released" | "free" | "held"> {
    const e = await this.#retry(
      `read ${keyOf(partition)}`,
      () => this.#kv.get(keyOf(partition)),
      true,
    );
    if (!e) return "free";
    return e.operation === "PUT" ? "held" : "released";
  }

  /**
   * Claims a free partition for `owner`: a create, which fails when another host holds the key.
   * The epoch is one above the bucket's last revision, so it exceeds every epoch before it.
   * Undefined when another host won.
   */
  async claim(partition: number, owner: string, nowMs: number): Promise<HeldLease | undefined> {
    return await this.#claim(
      keyOf(partition),
      (epoch) => ({ partition, owner, epoch, renewedMs: nowMs }),
      encodePartitionLease,
    );
  }

  /** Renews a held lease at its revision; undefined when the key moved on (the lease is lost). */
  async renew(held: HeldLease, nowMs: number): Promise<HeldLease | undefined> {
    const lease = { ...held.lease, renewedMs: nowMs };
    return await this.#renew(keyOf(lease.partition), lease, held.revision, encodePartitionLease);
  }

  /** Releases a held lease (a delete at its revision); false when it was no longer held. */
  async release(held: HeldLease): Promise<boolean> {
    return await this.#release(keyOf(held.lease.partition), held.revision);
  }

  /** Stage `stage`'s lease as it is; undefined when no host holds it. */
  async stageLease(stage: string): Promise<HeldStageLease | undefined> {
    const key = stageLeaseKey(stage);
    const e = await this.#retry(`read ${key}`, () => this.#kv.get(key), true);
    if (!e || e.operation !== "PUT") return undefined;
    return { lease: decodeStageLease(e.value, `lease ${key}`), revision: e.revision };
  }

  /** Claims stage `stage` for `owner` as `claim` claims a partition; undefined when another won. */
  async claimStage(
    stage: string,
    owner: string,
    nowMs: number,
  ): Promise<HeldStageLease | undefined> {
    const lease = (epoch: number) => ({ stage, owner, epoch, renewedMs: nowMs });
    return await this.#claim(stageLeaseKey(stage), lease, encodeStageLease);
  }

  /** Renews a stage's lease at its revision; undefined when it is lost. */
  async renewStage(held: HeldStageLease, nowMs: number): Promise<HeldStageLease | undefined> {
    const lease = { ...held.lease, renewedMs: nowMs };
    return await this.#renew(stageLeaseKey(lease.stage), lease, held.revision, encodeStageLease);
  }

  /** Releases a stage's lease; false when it was no longer held. */
  async releaseStage(held: HeldStageLease): Promise<boolean> {
    return await this.#release(stageLeaseKey(held.lease.stage), held.revision);
  }

  /** A create of `key` at an epoch above the bucket's last revision; undefined when another won. */
  async #claim<L>(
    key: string,
    leaseAt: (epoch: number) => L,
    encode: (lease: L) => Uint8Array,
  ): Promise<{ lease: L; revision: number } | undefined> {
    const status = await this.#retry(
      "read the lease bucket's status",
      () => this.#kv.status(),
      true,
    );
    const lease = leaseAt(status.streamInfo.state.last_seq + 1);
    const value = encode(lease);
    try {
      const revision = await this.#retry(`claim ${key}`, () => this.#kv.create(key, value), false);
      return { lease, revision };
    } catch (err) {
      if (isWrongSequence(err)) return undefined;
      if (electionError(err) !== "timeout") throw err;
      // Its fate unknown (its answer lost with the server, or late): stored if the key holds
      // this very claim, which is then this host's (else it would stand unrenewed for a TTL).
      const e = await this.#retry(`read ${key}`, () => this.#kv.get(key), true);
      if (e?.operation === "PUT" && bytesEqual(e.value, value)) {
        return { lease, revision: e.revision };
      }
      if (e?.operation === "PUT") return undefined; // another host's claim won
      throw err;
    }
  }

  /** An update of `key` at `revision`; undefined when the key moved on. */
  async #renew<L>(
    key: string,
    lease: L,
    revision: number,
    encode: (lease: L) => Uint8Array,
  ): Promise<{ lease: L; revision: number } | undefined> {
    const value = encode(lease);
    try {
      // An answer lost with the server would be waited for the whole timeout, past the fence.
      const next = await this.#retry(
        `renew ${key}`,
        () => lostOnDisconnect(this.#nc, `renew ${key}`, this.#kv.update(key, value, revision)),
        false,
      );
      return { lease, revision: next };
    } catch (err) {
      if (isWrongSequence(err)) return undefined;
      if (electionError(err) !== "timeout") throw err;
      // Its fate unknown: stored if the key holds this very renewal (then its revision is the
      // one to name next), not stored if the key is still at `revision`.
      const e = await this.#retry(`read ${key}`, () => this.#kv.get(key), true);
      if (e?.operation === "PUT" && bytesEqual(e.value, value)) {
        return { lease, revision: e.revision };
      }
      if (e?.revision === revision) throw err;
      return undefined;
    }
  }

  /** A delete of `key` at `revision`; false when the key moved on. */
  async #release(key: string, revision: number): Promise<boolean> {
    try {
      await this.#retry(
        `release ${key}`,
        () => this.#kv.delete(key, { previousSeq: revision }),
        false,
      );
      return true;
    } catch (err) {
      if (isWrongSequence(err)) return false;
      throw err;
    }
  }

  /** Writes this host's presence (a heartbeat). */
  async present(presence: HostPresence): Promise<void> {
    const key = `host.${presence.host}`;
    // Repeatable: a second put of the presence is one more revision of it.
    const value = encodeHostPresence(presence);
    await this.#retry(
      `write ${key}`,
      () => lostOnDisconnect(this.#nc, `write ${key}`, this.#kv.put(key, value)),
      true,
    );
  }

  /** Removes this host's presence (it leaves). */
  async leave(host: string): Promise<void> {
    await this.#retry(`delete host.${host}`, () => this.#kv.delete(`host.${host}`), true);
  }
}

function keyOf(partition: number): string {
  return `partition.${partition}`;
}

/** A compare-and-set that lost: the key is not at the revision named. */
function isWrongSequence(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  // 10071: wrong last sequence; 10164: wrong last sequence, unknown.
  return code === 10071 || code === 10164 ||
    /wrong last sequence/i.test((err as Error).message ?? "");
}

/**
 * The keys of `bucket` that hold a value or a delete marker, from its stream's subjects. Not
 * `kv.keys()`: that opens a consumer, and nats-server 2.9 may place it on a node that is down
 * (its create then times out, about every other time with one node of three down), while the
 * stream's info is answered by its leader.
 */
async function keysOf(nc: NatsConnection, bucket: string): Promise<string[]> {
  const prefix = `$KV.${bucket}.`;
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const info = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: `${prefix}>` });
  return Object.keys(info.state.subjects ?? {}).map((s) => s.slice(prefix.length));
}

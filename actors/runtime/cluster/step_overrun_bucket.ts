/**
 * The NATS key-value bucket where hosts that share partitions by lease keep the step overruns
 * still to be skipped (`troupe_step_overruns`): key `partition.<n>` holds the overrun of a step
 * that ended a host while it held partition `n` (protocol/step_overrun.ts), until the host that
 * next holds the partition has journaled its skip. Unlike the lease bucket it has no max_age: a
 * record must outlive any time a partition waits for a host. Every call waits out a cluster's
 * leader election (jetstream_retry.ts); each is repeatable (a read, a put of the same value, a
 * delete).
 */
import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { decodeStepOverrun, encodeStepOverrun, type StepOverrun } from "../../../protocol/mod.ts";
import { describeError } from "../operations/mod.ts";
import { ELECTION_BUDGET_MS, retryJetStream } from "../transport/mod.ts";

/** The bucket of step overruns. */
export const STEP_OVERRUN_BUCKET = "troupe_step_overruns";

/** Options of `StepOverrunBucket.open`. */
export interface StepOverrunBucketOptions {
  /** The bucket's replicas when it is created (`nats.replicas`): 1. */
  replicas?: number;
  bucket?: string;
  /** How long each call waits out a cluster's leader election, ms: ELECTION_BUDGET_MS. */
  electionBudgetMs?: number;
}

/** The step overrun bucket in NATS. */
export class StepOverrunBucket {
  readonly #kv: KV;
  readonly #name: string;
  readonly #budgetMs: number;

  private constructor(kv: KV, name: string, budgetMs: number) {
    this.#kv = kv;
    this.#name = name;
    this.#budgetMs = budgetMs;
  }

  /** Opens the bucket, creating it when missing. */
  static async open(
    nc: NatsConnection,
    options: StepOverrunBucketOptions = {},
  ): Promise<StepOverrunBucket> {
    const name = options.bucket ?? STEP_OVERRUN_BUCKET;
    const budgetMs = options.electionBudgetMs ?? ELECTION_BUDGET_MS;
    // Repeatable: creating a bucket that exists with these settings opens it.
    const kv = await retryJetStream(
      `open the step overrun bucket ${name}`,
      () => new Kvm(nc).create(name, { history: 1, replicas: options.replicas ?? 1 }),
      { budgetMs, repeatable: true },
    );
    return new StepOverrunBucket(kv, name, budgetMs);
  }

  /** Where partition `p`'s overrun is kept, as a log line names it. */
  placeName(p: number): string {
    return `${this.#name} key ${keyOf(p)}`;
  }

  /** Records `overrun` as partition `p`'s, over any it held. */
  async put(p: number, overrun: StepOverrun): Promise<void> {
    const bytes = encodeStepOverrun(overrun);
    await this.#retry(`record ${this.placeName(p)}`, () => this.#kv.put(keyOf(p), bytes));
  }

  /**
   * Partition `p`'s overrun, if it has one; a value that is not one is reported (`log`) and
   * removed, as a damaged overrun file is.
   */
  async get(p: number, log: (message: string) => void): Promise<StepOverrun | undefined> {
    const where = this.placeName(p);
    const e = await this.#retry(`read ${where}`, () => this.#kv.get(keyOf(p)));
    if (!e || e.operation !== "PUT") return undefined;
    try {
      return decodeStepOverrun(e.value, where);
    } catch (err) {
      log(`${where}: not a step overrun (${describeError(err)}); removed`);
      await this.delete(p);
      return undefined;
    }
  }

  /** Removes partition `p`'s overrun: its skip is journaled. */
  async delete(p: number): Promise<void> {
    await this.#retry(`remove ${this.placeName(p)}`, () => this.#kv.delete(keyOf(p)));
  }

  #retry<T>(what: string, call: () => Promise<T>): Promise<T> {
    return retryJetStream(what, call, { budgetMs: this.#budgetMs, repeatable: true });
  }
}

function keyOf(p: number): string {
  return `partition.${p}`;
}

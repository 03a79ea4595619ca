/**
 * One read of the feed stream for every partition a process holds. A leased host runs a host per
 * partition, and each takes every feed message (a message holds channels of any partition; the
 * partition is a hash of the channel, not a token of the subject), so with a consumer each the
 * server would deliver every frame once a partition. Here the process reads the stream once, and
 * each partition's input (`input()`) is handed every message past its own resume point, in order.
 *
 * A partition that starts behind the shared read (its journal ends earlier: a lease moved from a
 * host that had fallen behind, or a partition made on a process already reading) catches up with
 * a consumer of its own from its resume point, as a lone host would, and joins the shared read
 * once it has taken what the shared read last delivered; its own consumer is then deleted. The
 * partitions already reading never wait for one that catches up, and none takes a message twice
 * or misses one: a partition takes only messages past the last it took, and joins only when the
 * shared read's next message is its own next.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import type { BusMessage } from "../../../protocol/mod.ts";
import type { InputSource } from "./input_source.ts";
import { type FeedStreamOptions, jetStreamInput } from "./jetstream_input.ts";

type Deliver = (msg: BusMessage, srcPos: number) => void;

/** A process's one reader of the feed stream, shared by the partitions it holds. */
export class SharedFeed {
  readonly #nc: NatsConnection;
  readonly #options: FeedStreamOptions;
  /** Stream positions: asked of a reader that is never started. */
  readonly #positions: InputSource;
  readonly #attached = new Set<FeedShare>();
  /** The shared read while one runs; its start while it starts. */
  #reader: InputSource | undefined;
  #started: Promise<void> | undefined;
  /** The shared read's stop, awaited before another starts. */
  #stopping: Promise<void> = Promise.resolve();
  /** The last position the shared read delivered (where it started, before its first). */
  #last = 0;

  constructor(nc: NatsConnection, options: FeedStreamOptions = {}) {
    this.#nc = nc;
    this.#options = options;
    this.#positions = jetStreamInput(nc, options);
  }

  /** A partition's input: one share of the read. */
  input(): InputSource {
    return new FeedShare(this);
  }

  /** Consumers this process holds on the feed stream now: the shared one and those catching up. */
  get consumers(): number {
    let n = this.#reader ? 1 : 0;
    for (const share of this.#attached) if (share.catchingUp) n++;
    return n;
  }

  /** Where the shared read is: the last position it delivered. */
  get last(): number {
    return this.#last;
  }

  /** A reader of the feed from `after` on, for a share that catches up. */
  catchUpReader(): InputSource {
    return jetStreamInput(this.#nc, this.#options);
  }

  firstPosition(): Promise<number> {
    return this.#positions.firstPosition!();
  }

  lastPosition(): Promise<number> {
    return this.#positions.lastPosition!();
  }

  health(): string | undefined {
    return this.#reader?.health?.();
  }

  /** Adds a share; starts the shared read from `after` when none runs. */
  async attach(share: FeedShare, after: number): Promise<void> {
    this.#attached.add(share);
    try {
      if (this.#started === undefined) {
        await this.#stopping;
        this.#started ??= this.#start(after);
      }
      await this.#started;
    } catch (err) {
      await this.detach(share);
      throw err;
    }
  }

  /** Removes a share; the shared read stops with the last one. */
  detach(share: FeedShare): Promise<void> {
    this.#attached.delete(share);
    if (this.#attached.size > 0 || this.#reader === undefined) return Promise.resolve();
    const reader = this.#reader;
    const started = this.#started ?? Promise.resolve();
    this.#reader = undefined;
    this.#started = undefined;
    // Stopped once its start has settled: a reader is not stopped while it makes its consumer.
    this.#stopping = started.catch(() => {}).then(() => reader.stop()).catch(() => {});
    return this.#stopping;
  }

  #start(after: number): Promise<void> {
    const reader = jetStreamInput(this.#nc, this.#options);
    this.#reader = reader;
    this.#last = after;
    return reader.start((msg, pos) => this.#deliver(msg, pos), after).catch((err) => {
      if (this.#reader === reader) {
        this.#reader = undefined;
        this.#started = undefined;
      }
      throw err;
    });
  }

  #deliver(msg: BusMessage, pos: number): void {
    this.#last = pos;
    for (const share of this.#attached) share.fromShared(msg, pos);
  }
}

/** One partition's input: the shared read past its resume point, or its own until it joins. */
class FeedShare implements InputSource {
  readonly #feed: SharedFeed;
  #deliver: Deliver | undefined;
  /** The last position this share took (its resume point, before its first). */
  #took = 0;
  /** Its own reader while it catches up to the shared read. */
  #own: InputSource | undefined;
  /** Its own reader's start, settled (a reader is stopped only once its start has settled). */
  #ownStarted: Promise<void> = Promise.resolve();
  #ownStop: Promise<void> = Promise.resolve();
  #joined = false;

  constructor(feed: SharedFeed) {
    this.#feed = feed;
  }

  get catchingUp(): boolean {
    return this.#own !== undefined;
  }

  async start(deliver: Deliver, resumeAfter: number): Promise<void> {
    this.#deliver = deliver;
    this.#took = resumeAfter;
    await this.#feed.attach(this, resumeAfter);
    // The shared read may have delivered this share's next message meanwhile: then it joined.
    if (this.#joined || this.#took >= this.#feed.last) {
      this.#joined = true;
      return;
    }
    const own = this.#feed.catchUpReader();
    this.#own = own;
    const started = own.start((msg, pos) => this.#fromOwn(own, msg, pos), resumeAfter);
    this.#ownStarted = started.catch(() => {});
    try {
      await started;
    } catch (err) {
      if (this.#joined) return; // it caught up and joined as its reader failed: reading on
      this.#own = undefined;
      await this.#feed.detach(this);
      throw err;
    }
  }

  /** A message of the shared read: taken when joined, or when it is this share's next. */
  fromShared(msg: BusMessage, pos: number): void {
    if (!this.#joined) {
      if (pos !== this.#took + 1) return;
      this.#join();
    }
    this.#take(msg, pos);
  }

  #fromOwn(own: InputSource, msg: BusMessage, pos: number): void {
    if (this.#own !== own) return; // joined meanwhile: the shared read has it
    this.#take(msg, pos);
    if (this.#took >= this.#feed.last) this.#join();
  }

  #take(msg: BusMessage, pos: number): void {
    if (pos <= this.#took) return;
    this.#took = pos;
    this.#deliver!(msg, pos);
  }

  #join(): void {
    this.#joined = true;
    this.#ownStop = this.#stopOwn();
  }

  #stopOwn(): Promise<void> {
    const own = this.#own;
    this.#own = undefined;
    if (own === undefined) return this.#ownStop;
    return this.#ownStarted.then(() => own.stop()).catch(() => {});
  }

  async stop(): Promise<void> {
    this.#joined = false;
    const ownStop = this.#stopOwn();
    await Promise.all([ownStop, this.#ownStop, this.#feed.detach(this)]);
  }

  firstPosition(): Promise<number> {
    return this.#feed.firstPosition();
  }

  lastPosition(): Promise<number> {
    return this.#feed.lastPosition();
  }

  delivered(): number {
    return this.#took;
  }

  health(): string | undefined {
    return this.#own ? this.#own.health?.() : this.#feed.health();
  }
}

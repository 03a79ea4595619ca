/**
 * A background feed for `bench latency`'s loaded row: an injector process (`bench/_injector.ts
 * --mode throughput`) publishing frames of `batch` samples over `channels` channels to the host
 * under test, at `rate` samples a second, while the latency frames are timed. The rate is held by
 * grants: every few milliseconds the feed grants the frames due since it started, but never more
 * than `window` frames beyond what the host has applied, so a host that falls behind slows the feed
 * (and says so in the rate it reports) instead of piling frames up in nats-server.
 *
 * Each channel's instance is first told by a control message to publish once per frame
 * (`configure`): a user's per-channel setting, and what keeps a background of 1M samples a second
 * from being 1M outputs a second when the kind publishes on every sample (stats, every_samples 1).
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Host } from "../actors/runtime/mod.ts";
import { ctlSubject, decodeEnvelope, encodeEnvelope, SUBJECT_ROOT } from "../protocol/mod.ts";
import { nowMs } from "./_bench.ts";
import { ChildScript } from "./_child_script.ts";

const CREDIT_SUBJECT = "bench.latency.bg.credit";
const CONTROL_SUBJECT = "bench.latency.bg.control";
/** Milliseconds between grants. */
const GRANT_EVERY_MS = 2;

/** Options of `BackgroundFeed.start`. */
export interface BackgroundFeedOptions {
  natsUrl: string;
  host: Host;
  kind: string;
  channels: number;
  batch: number;
  /** Samples a second. */
  rate: number;
  /** Frames in flight at most (granted and not yet applied). */
  window: number;
  /** The configuration sent to each channel's instance before the feed starts, if any. */
  configure: unknown;
  log: (message: string) => void;
}

/** A paced background feed into a host; off until `on()`. */
export class BackgroundFeed {
  readonly #options: BackgroundFeedOptions;
  readonly #nc: NatsConnection;
  readonly #injector: ChildScript;
  readonly #stopCount: () => void;
  #applied = 0;
  #epoch = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #granted = 0;
  #t0 = 0;
  #applied0 = 0;

  private constructor(o: BackgroundFeedOptions, nc: NatsConnection, injector: ChildScript) {
    this.#options = o;
    this.#nc = nc;
    this.#injector = injector;
    // The injector's channels are c00000, c00001, ...; the latency frames' are l0, l1, ...
    this.#stopCount = o.host.onApplied(o.kind, (key) => {
      if (key.charCodeAt(0) === 99 /* c */) this.#applied++;
    });
  }

  /** Starts the injector and configures the channels' instances; nothing is sent until `on()`. */
  static async start(o: BackgroundFeedOptions): Promise<BackgroundFeed> {
    const nc = await connect({ servers: o.natsUrl, name: "troupe-bench-latency-bg" });
    const injector = ChildScript.start("bench/_injector.ts", [
      "--mode",
      "throughput",
      "--nats",
      o.natsUrl,
      "--channels",
      String(o.channels),
      "--batch",
      String(o.batch),
      "--credit",
      CREDIT_SUBJECT,
      "--control",
      CONTROL_SUBJECT,
    ], o.log);
    const feed = new BackgroundFeed(o, nc, injector);
    try {
      const ready = await injector.next(60_000);
      if (ready.ready !== true) {
        throw new Error(`the background injector said ${JSON.stringify(ready)}, not ready`);
      }
      if (o.configure !== undefined) await feed.#configure();
    } catch (err) {
      await feed.stop();
      throw err;
    }
    return feed;
  }

  /** Tells each channel's instance its configuration, and waits for each answer. */
  async #configure(): Promise<void> {
    const { kind, channels, configure } = this.#options;
    for (let c = 0; c < channels; c++) {
      const key = `c${String(c).padStart(5, "0")}`;
      const request = encodeEnvelope({
        id: `bench-bg-${c}-${Date.now().toString(36)}`,
        type: "config",
        src: "bench-latency",
        ts: Date.now() * 1000,
        body: configure,
      });
      const reply = decodeEnvelope(
        (await this.#nc.request(ctlSubject(kind, key), request, {
          timeout: 10_000,
        })).data,
      );
      if (reply.type !== "ok") {
        throw new Error(
          `configuring ${kind}/${key} for the background feed: ${JSON.stringify(reply.body)}`,
        );
      }
    }
  }

  /** Starts sending at the rate. */
  on(): void {
    this.#epoch++;
    this.#granted = 0;
    this.#t0 = nowMs();
    this.#applied0 = this.#applied;
    this.#nc.publish(CONTROL_SUBJECT, `${this.#epoch} ${SUBJECT_ROOT}.feed.bg`);
    this.#timer = setInterval(() => this.#grant(), GRANT_EVERY_MS);
  }

  /** Stops granting; resolves with the samples a second the host applied since `on()`. */
  async off(): Promise<number> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    const rate = ((this.#applied - this.#applied0) * this.#options.batch) /
      ((nowMs() - this.#t0) / 1000);
    // What was granted drains before the next phase starts.
    for (let i = 0; i < 500 && this.#applied - this.#applied0 < this.#granted; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    return rate;
  }

  #grant(): void {
    const { rate, batch, window } = this.#options;
    const due = Math.floor(((nowMs() - this.#t0) / 1000) * (rate / batch)) - this.#granted;
    const room = window - (this.#granted - (this.#applied - this.#applied0));
    const n = Math.min(due, room);
    if (n <= 0) return;
    this.#granted += n;
    this.#nc.publish(CREDIT_SUBJECT, `${this.#epoch} ${n}`);
  }

  /** Stops the injector and closes the connection. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#stopCount();
    await this.#injector.kill();
    await this.#nc.close();
  }
}

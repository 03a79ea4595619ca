/**
 * Control messages kept like feed frames: with JetStream input, the stream `TROUPE_CTL` keeps
 * what is sent on `troupe.ctl.>`, and each host reads it through its own durable consumer
 * (`ctl_<host id>`), acknowledging a message once the host has journaled it. A control message
 * sent while a host is down is applied when it comes back; one applied but not yet acknowledged
 * when the host died is applied again (a configuration change: setting the same fields twice).
 *
 * The stream does not acknowledge publishes (`no_ack`): a control request's reply subject belongs
 * to the host that answers it ("ok" or the error), not to the stream. A stream of that name made
 * without it (by hand, or by another tool) answered every control request at once with its PubAck
 * (`{"stream":"TROUPE_CTL","seq":1}`), which the requester took for the host's answer and could
 * not read: a host that opens such a stream sets `no_ack` on it, and says so.
 */
import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  DiscardPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { type BusMessage, SUBJECT_ROOT } from "../../../../protocol/mod.ts";
import { retryJetStream } from "../../transport/mod.ts";
import { isStreamNotFound } from "../../journal/jetstream/mod.ts";

/** The stream that keeps control messages. */
export const CONTROL_STREAM = "TROUPE_CTL";

/** Where a host's kept control messages come from. */
export interface ControlSource {
  /**
   * Starts delivering; `apply` resolves once the message is journaled (then it is acknowledged).
   */
  start(apply: (msg: BusMessage) => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Creates the control stream if it does not exist: a day of control messages, at most 64 MiB.
 * Waits out a cluster's leader election (jetstream_retry.ts).
 */
export function ensureControlStream(
  nc: NatsConnection,
  options: ControlStreamOptions = {},
): Promise<void> {
  // Repeatable: adding a stream that exists with this configuration succeeds.
  const add = () => addControlStream(nc, options.replicas ?? 1, options.log ?? (() => {}));
  return retryJetStream(`open the control stream ${CONTROL_STREAM}`, add, { repeatable: true });
}

/** Options of the control stream. */
export interface ControlStreamOptions {
  /** The stream's replicas when it is created (`nats.replicas`): 1. */
  replicas?: number;
  /** Where a change made to an existing stream is said. */
  log?: (line: string) => void;
}

async function addControlStream(
  nc: NatsConnection,
  replicas: number,
  log: (line: string) => void,
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  try {
    const info = await jsm.streams.info(CONTROL_STREAM);
    if (info.config.no_ack !== true) {
      // Its PubAck would answer every control request before the hosts do.
      await jsm.streams.update(CONTROL_STREAM, { no_ack: true });
      log(
        `control stream ${CONTROL_STREAM} acknowledged publishes, so its PubAck answered control ` +
          "requests before the hosts: set no_ack on it",
      );
    }
  } catch (err) {
    if (!isStreamNotFound(err)) throw err; // as the feed stream's (jetstream_input.ts)
    await jsm.streams.add({
      name: CONTROL_STREAM,
      subjects: [`${SUBJECT_ROOT}.ctl.>`],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_age: 24 * 3600 * 1e9,
      max_bytes: 64 << 20,
      no_ack: true,
      num_replicas: replicas,
    });
  }
}

/** The durable consumer of host `hostId` on the control stream. */
export function controlStreamSource(
  nc: NatsConnection,
  hostId: string,
  options: ControlStreamOptions = {},
): ControlSource {
  let messages: ConsumerMessages | undefined;
  let stopped = false;
  return {
    async start(apply) {
      await ensureControlStream(nc, options);
      const name = `ctl_${hostId}`;
      // Repeatable: adding a durable consumer that exists with this configuration succeeds.
      const consumer = await retryJetStream(`open the control consumer ${name}`, async () => {
        const jsm = await jetstreamManager(nc);
        try {
          await jsm.consumers.info(CONTROL_STREAM, name);
        } catch {
          await jsm.consumers.add(CONTROL_STREAM, {
            durable_name: name,
            ack_policy: AckPolicy.Explicit,
            deliver_policy: DeliverPolicy.All,
            ack_wait: 5e9,
          });
        }
        return await jetstream(nc).consumers.get(CONTROL_STREAM, name);
      }, { repeatable: true });
      if (stopped) return;
      // One at a time, in order: each is acknowledged once journaled.
      // Bound: after a reconnect it pulls again at once, not after a consumer info that a
      // cluster electing its meta leader refuses (then nats.js waits 30 s to ask again).
      messages = await consumer.consume({ max_messages: 1, bind: true });
      (async () => {
        for await (const m of messages!) {
          const msg = { subject: m.subject, data: m.data, headers: undefined, reply: undefined };
          try {
            await apply(msg);
            m.ack();
          } catch {
            m.nak(1000); // the host could not journal it now: again in a second
          }
        }
      })().catch(() => {});
    },
    async stop() {
      stopped = true;
      const m = messages;
      messages = undefined;
      if (m) {
        await Promise.race([m.close().catch(() => {}), new Promise((r) => setTimeout(r, 1000))]);
      }
    },
  };
}

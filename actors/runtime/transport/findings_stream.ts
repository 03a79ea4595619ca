/**
 * The findings stream, `TROUPE_FINDINGS`: JetStream keeps every finding the hosts publish on
 * `troupe.finding.<kind>.<channel>` (protocol/subjects.ts), deduplicated by the finding's id
 * (`Nats-Msg-Id`), so that the incident stage of a leased cluster can move between hosts: its new
 * holder restores the stage's snapshot and reads the stream on from the sequence the snapshot was
 * taken at, and no finding published while no host ran the stage is lost. The stream is the
 * stage's journal; it is bounded by age and bytes (FINDINGS_STREAM_MAX_AGE_MS,
 * FINDINGS_STREAM_BYTES_MAX), far beyond a snapshot's interval.
 */
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { FINDINGS_PATTERN } from "../../../protocol/mod.ts";
import { ELECTION_BUDGET_MS, retryJetStream } from "./jetstream_retry.ts";
import { StreamFollower } from "./stream_follower.ts";

/** The stream's name. */
export const FINDINGS_STREAM = "TROUPE_FINDINGS";

/** How long the stream keeps a finding: a day. */
export const FINDINGS_STREAM_MAX_AGE_MS = 24 * 3600_000;

/** The stream's bytes at most (the oldest findings go first): 256 MiB. */
export const FINDINGS_STREAM_BYTES_MAX = 256 << 20;

/** The window in which a finding published twice (same id) is stored once: 2 minutes. */
export const FINDINGS_DUPLICATE_WINDOW_MS = 120_000;

/** A finding read from the stream: its bytes, its stream sequence and its subject. */
export type FindingHandler = (data: Uint8Array, seq: number, subject: string) => void;

/** The findings stream as the stage reads it (the NATS one below, or a test's). */
export interface FindingSource {
  /** What the stage calls it (its dead letters' ids); default the stream's name. */
  name?: string;
  /** The sequence of the stream's last finding, 0 when it holds none. */
  lastSeq(): Promise<number>;
  /** Delivers the findings after sequence `after`, in order, live, until stopped. */
  consume(after: number, handler: FindingHandler): Promise<{ stop(): Promise<void> }>;
}

/**
 * Opens the findings stream, creating it when missing (every leased host does, at start) with
 * `replicas` replicas (`nats.replicas`, as every stream troupe creates).
 */
export async function openFindingsStream(
  nc: NatsConnection,
  options: { replicas?: number; budgetMs?: number } = {},
): Promise<FindingSource> {
  const { replicas = 1, budgetMs = ELECTION_BUDGET_MS } = options;
  const opening = { budgetMs, repeatable: true };
  if (nc.info?.jetstream !== true) await askJetStreamOnce(nc);
  const jsm = await retryJetStream("reach JetStream", () => jetstreamManager(nc), opening);
  await retryJetStream(`open the findings stream ${FINDINGS_STREAM}`, async () => {
    try {
      return await jsm.streams.info(FINDINGS_STREAM);
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) {
        throw err;
      }
      // Repeatable: adding a stream that exists with this configuration succeeds.
      return await jsm.streams.add({
        name: FINDINGS_STREAM,
        subjects: [FINDINGS_PATTERN],
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
        max_age: FINDINGS_STREAM_MAX_AGE_MS * 1_000_000,
        max_bytes: FINDINGS_STREAM_BYTES_MAX,
        duplicate_window: FINDINGS_DUPLICATE_WINDOW_MS * 1_000_000,
        num_replicas: replicas,
      });
    }
  }, opening);
  return {
    lastSeq: async () => (await jsm.streams.info(FINDINGS_STREAM)).state.last_seq,
    consume: async (after, handler) => {
      // Not nats.js's ordered consumer: after a reconnect or a lost node it waited out the
      // meta election and then up to 30 s more (stream_follower.ts).
      const follower = new StreamFollower(nc, {
        stream: FINDINGS_STREAM,
        filter: FINDINGS_PATTERN,
        consumerPrefix: "troupe_findings",
        maxMessages: 256,
      });
      await follower.start((m) => handler(m.data, m.seq, m.subject), after);
      return { stop: () => follower.stop() };
    },
  };
}

/**
 * A server that says it has JetStream off may still reach it through its cluster: asked once,
 * without the election's retries, so that a server without JetStream stops the stage at once,
 * naming the server and the stream.
 */
async function askJetStreamOnce(nc: NatsConnection): Promise<void> {
  try {
    await jetstreamManager(nc);
  } catch (err) {
    const name = nc.info?.server_name ? ` (server "${nc.info.server_name}")` : "";
    const server = `nats://${nc.getServer()}${name}`;
    throw new Error(
      `The findings stream ${FINDINGS_STREAM} needs JetStream, but the NATS server at ${server} ` +
        `has JetStream off (${(err as Error).message}); start nats-server with -js (or ` +
        `"jetstream {}" in its config)`,
      { cause: err },
    );
  }
}

/**
 * The JetStream stream under a JetStreamJournal (see jetstream_journal.ts): the journal's options,
 * the state it keeps of each journal stream, and the stream's opening (created when missing,
 * waiting out a cluster's leader election).
 */
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamInfo,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { retryJetStream } from "./jetstream_retry.ts";
import type { JournalDamage } from "./journal.ts";

/** Options of `JetStreamJournal.open`. */
export interface JetStreamJournalOptions {
  /** The JetStream stream: `TROUPE_JOURNAL`. Created (file storage) when missing. */
  stream?: string;
  /** The subject prefix: `troupe.journal`. */
  subjectPrefix?: string;
  /** `open` (default): every stream's last position is read at open; `lazy`: on first use. */
  loadPositions?: "open" | "lazy";
  /** Milliseconds to wait for the server to acknowledge one publish: 5000. */
  publishTimeoutMs?: number;
  /** Publishes retried (with the same message id) after a timeout: 3. */
  publishRetries?: number;
  /** How many last-message requests `open` keeps in flight: 64. */
  loadConcurrency?: number;
  /** How long one call waits out a cluster's leader election, ms: `ELECTION_BUDGET_MS`. */
  electionBudgetMs?: number;
  /** Called once for each damage found while reading (also listed by `damage()`). */
  onDamage?(damage: JournalDamage): void;
  /**
   * Asked right before each publish and purge is sent (not when the append is queued): an error
   * refuses it. A host that holds its partition by lease passes its fence, so that an append
   * queued behind others while the lease was fresh is not sent once it is not.
   */
  guard?(): Error | undefined;
  /** Written in the `Troupe-Epoch` header of every record: the lease epoch of its writer. */
  epoch?: number;
  /** The stream's replicas when it is created (`nats.replicas`): 1. */
  replicas?: number;
}

export interface StreamState {
  stream: string;
  subject: string;
  loaded: boolean;
  lastPos: number;
  /** The stream sequence of the subject's last message, 0 when it has none. */
  lastSeq: number;
  /** Positions continue past this one (`advance`), whatever the subject's last message says. */
  floor: number;
  /**
   * Why appends are refused: a conflict, until `prepare`; or an append whose fate is unknown,
   * found out before the next append.
   */
  broken: Error | undefined;
  /** The append whose fate is unknown: its position, its bytes and the sequence it expected. */
  unsure: { pos: number; data: Uint8Array; afterSeq: number } | undefined;
  /** The end of this stream's chain of appends: one in flight at a time. */
  tail: Promise<unknown>;
}

/**
 * Opens the journal's JetStream stream `streamName`, creating it (file storage) when missing, and
 * checks that its subjects hold `prefix.>`. Waits out a leader election for up to `budgetMs`.
 */
export async function openJournalStream(
  nc: NatsConnection,
  stream: { name: string; prefix: string; budgetMs: number; replicas: number },
): Promise<{ jsm: JetStreamManager; info: StreamInfo }> {
  const { name: streamName, prefix, budgetMs } = stream;
  const wanted = `${prefix}.>`;
  const opening = { budgetMs, repeatable: true };
  const jsm = await retryJetStream("reach JetStream", () => jetstreamManager(nc), opening);
  const info = await retryJetStream(`open the journal stream ${streamName}`, async () => {
    try {
      return await jsm.streams.info(streamName);
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) {
        throw err;
      }
      // Repeatable: adding a stream that exists with this configuration succeeds.
      return await jsm.streams.add({
        name: streamName,
        subjects: [wanted],
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
        allow_direct: true,
        max_msgs_per_subject: -1,
        num_replicas: stream.replicas,
      });
    }
  }, opening);
  if (!info.config.subjects?.includes(wanted)) {
    throw new Error(
      `Cannot use JetStream stream ${streamName} as the journal: its subjects ${
        JSON.stringify(info.config.subjects ?? [])
      } do not include ${wanted}`,
    );
  }
  return { jsm, info };
}

/** Whether `err` is JetStream's refusal of a publish whose expected last sequence is not the last. */
export function isWrongLastSequence(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence;
}

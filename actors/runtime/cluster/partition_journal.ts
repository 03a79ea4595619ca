/**
 * A leased partition's journal: each partition journals in a JetStream stream of its own
 * (`TROUPE_JOURNAL_P3`, subjects `troupe.journal_part.3.<kind>.<key>`), not in one stream every
 * partition shares. A partition's recovery then reads its own records only, however many
 * partitions the cluster has, and its compaction's filtered purges walk its own appends only:
 * nats-server loads every block of a stream in which a purged subject has a message, so in one
 * shared stream each purge walked every partition's appends (docs/leased_stop_and_start.md).
 *
 * The stream's description names the partition and the partitions' count: a host whose count is
 * another is refused before it starts (its keys hash to other partitions; troupe does not move a
 * cluster's journals to another count), and by the stream itself. A cluster whose partitions still
 * journal in the shared stream (`TROUPE_JOURNAL`, an older troupe's layout) is refused too, and
 * told why: nothing of it would be read.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { JOURNAL_SUBJECT_PREFIX, PARTITION_JOURNAL_SUBJECT_PREFIX } from "../../../protocol/mod.ts";
import { isStreamNotFound, JOURNAL_STREAM } from "../journal/jetstream/mod.ts";
import { retryJetStream } from "../transport/mod.ts";

/** Where partition `p` of `count` journals: its stream, its subjects' prefix and description. */
export interface PartitionJournal {
  stream: string;
  subjectPrefix: string;
  description: string;
}

/** The journal stream of partition `p` of `count`. */
export function partitionJournal(p: number, count: number): PartitionJournal {
  return {
    stream: partitionJournalStream(p),
    subjectPrefix: `${PARTITION_JOURNAL_SUBJECT_PREFIX}.${p}`,
    description: `troupe: the journal of partition ${p} of ${count}`,
  };
}

/** A partition journal's description read back: the partition and the count it was made for. */
const DESCRIPTION = /^troupe: the journal of partition (\d+) of (\d+)$/;

/**
 * Why a host of `count` partitions cannot start on this cluster, or undefined: a partition's
 * journal stream there was made for another count (a changed `partitions.count`).
 */
export async function partitionCountLeft(
  nc: NatsConnection,
  count: number,
): Promise<string | undefined> {
  const jsm = await retryJetStream("reach JetStream", () => jetstreamManager(nc));
  const other = await retryJetStream(
    "read the partitions' journal streams",
    async () => {
      const found: Array<{ stream: string; description: string; count: number }> = [];
      for await (const info of jsm.streams.list(`${PARTITION_JOURNAL_SUBJECT_PREFIX}.>`)) {
        const match = DESCRIPTION.exec(info.config.description ?? "");
        if (match !== null && Number(match[2]) !== count) {
          found.push({
            stream: info.config.name,
            description: info.config.description!,
            count: Number(match[2]),
          });
        }
      }
      return found;
    },
    { repeatable: true },
  );
  if (other.length === 0) return undefined;
  other.sort((a, b) => a.stream.localeCompare(b.stream, "en", { numeric: true }));
  const counts = [...new Set(other.map((o) => o.count))];
  return `its partitions.count is ${count}, but the cluster's partitions journal for ${
    counts.join(" and ")
  } (${other[0]!.stream}: "${other[0]!.description}"${
    other.length > 1 ? `, and ${other.length - 1} more stream${other.length > 2 ? "s" : ""}` : ""
  }); a channel's partition follows from the count, and troupe does not move a cluster's ` +
    `journals to another count. Set partitions.count to ${
      counts[0]
    } on every host, or start the new count on a cluster of its own`;
}

/** The JetStream stream partition `p` journals in: `TROUPE_JOURNAL_P<p>`. */
export function partitionJournalStream(p: number): string {
  return `${JOURNAL_STREAM}_P${p}`;
}

/** The subjects of the shared journal stream a leased partition's edge decisions wrote. */
const SHARED_LAYOUT_EDGES = `${JOURNAL_SUBJECT_PREFIX}._edge.>`;

/**
 * Why the cluster cannot start on this layout, or undefined: the shared journal stream holds a
 * leased partition's edge decisions (`_edge/part-<n>`), so the cluster journaled there.
 */
export async function sharedLayoutLeft(nc: NatsConnection): Promise<string | undefined> {
  const jsm = await retryJetStream("reach JetStream", () => jetstreamManager(nc));
  const info = await retryJetStream(
    `look for partitions' records in ${JOURNAL_STREAM}`,
    () =>
      jsm.streams.info(JOURNAL_STREAM, { subjects_filter: SHARED_LAYOUT_EDGES }).catch((err) => {
        if (isStreamNotFound(err)) return undefined;
        throw err;
      }),
    { repeatable: true },
  );
  const left = Object.keys(info?.state.subjects ?? {}).filter((s) => /\._edge\.part-\d+$/.test(s));
  if (left.length === 0) return undefined;
  return `the journal stream ${JOURNAL_STREAM} holds leased partitions' records (${
    left.slice(0, 3).join(", ")
  }${left.length > 3 ? ` and ${left.length - 3} more` : ""}) in the layout of an older troupe, ` +
    `where every partition journaled in that one stream; this troupe journals each partition in ` +
    `a stream of its own (${partitionJournalStream(0)} and on) and cannot read it. Run the ` +
    `older troupe on this cluster, or this one on a cluster of its own; removing that stream ` +
    `(nats stream rm ${JOURNAL_STREAM}) would start every instance afresh, as a partition whose ` +
    `journal is empty reads no snapshot`;
}

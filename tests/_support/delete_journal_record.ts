/**
 * Deletes one record from a JetStream journal, as damage to it: the message of the journal stream's
 * subject that holds the position, found by the positions its headers name (a message may hold a
 * run of records). A test that means to lose exactly one record fails here, naming the positions,
 * when the host wrote that record in a run with others; one that takes the run (`run`) is told the
 * positions lost.
 */
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { JetStreamJournal, JOURNAL_STREAM } from "../../actors/runtime/journal/jetstream/mod.ts";
import { lastPosIn, readPos } from "../../actors/runtime/journal/jetstream/_journal_consume.ts";

/**
 * Deletes from TROUPE_JOURNAL the message holding position `pos` of `stream`, and only it; with
 * `run`, whatever run of records it holds. The positions it held, first and last.
 */
export async function deleteJournalRecord(
  nc: NatsConnection,
  stream: string,
  pos: number,
  run = false,
): Promise<[number, number]> {
  const j = await JetStreamJournal.open(nc, { loadPositions: "lazy" });
  const subject = j.subjectOf(stream);
  await j.close();
  const jsm = await jetstreamManager(nc);
  for (let seq = 1;;) {
    const msg = await jsm.direct.getMessage(JOURNAL_STREAM, { seq, next_by_subj: subject });
    assert.ok(msg, `${stream} has no message holding position ${pos}`);
    const first = readPos(msg.header, subject, msg.seq);
    const last = lastPosIn(msg.header, subject, msg.seq);
    if (last >= pos) {
      if (!run) {
        assert.is(first, pos, `${stream}: position ${pos} is in a message of ${first}-${last}`);
        assert.is(last, pos, `${stream}: position ${pos} is in a message of ${first}-${last}`);
      }
      await jsm.streams.deleteMessage(JOURNAL_STREAM, msg.seq);
      return [first, last];
    }
    seq = msg.seq + 1;
  }
}

/**
 * The JetStream journal's own requests, against a real nats-server: a publish answered on the
 * journal's inbox and read by `streamAckOf` (its stream sequence; a wrong last sequence refused
 * as a `JetStreamApiError`, which `isWrongLastSequence` knows; a subject no stream takes refused as no
 * responders, which `electionError` retries) and a direct get (a subject's last message with its
 * headers, the next at or after a sequence, null where there is none).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import { isWrongLastSequence } from "../../../../actors/runtime/journal/jetstream/mod.ts";
import { directGet } from "../../../../actors/runtime/transport/direct_get.ts";
import {
  electionError,
  type HeaderPairs,
  InboxRequests,
  streamAckOf,
} from "../../../../actors/runtime/transport/mod.ts";
import { haveNatsServer, natsForSuite } from "../../../_support/nats.ts";

const test = suite("jetstream journal wire");
const it = haveNatsServer("jetstream journal wire") ? test : test.skip;

const nats = natsForSuite(test, it);
const STREAM = "JOURNAL_WIRE";
const bytes = (text: string) => new TextEncoder().encode(text);

/** A publish as a journal append sends it: on the inbox, the acknowledgement read for its seq. */
async function publishToStream(
  requests: InboxRequests,
  subject: string,
  data: Uint8Array,
  h: HeaderPairs,
): Promise<number> {
  return streamAckOf((await requests.request(subject, data, 2000, h)).data).seq;
}

/** Headers naming the sequence the subject's last message must have. */
function expecting(lastSeq: number, pos: number): HeaderPairs {
  return [["Troupe-Pos", String(pos)], ["Nats-Expected-Last-Subject-Sequence", String(lastSeq)]];
}

it("publishes, refuses a wrong last sequence as JetStream does, and reads back by direct get", async () => {
  const jsm = await jetstreamManager(nats.nc);
  await jsm.streams.add({ name: STREAM, subjects: ["wire.>"], allow_direct: true });
  const requests = new InboxRequests(nats.nc);
  try {
    const s1 = await publishToStream(requests, "wire.a", bytes("one"), expecting(0, 1));
    const s2 = await publishToStream(requests, "wire.b", bytes("other"), expecting(0, 1));
    const s3 = await publishToStream(requests, "wire.a", bytes("two"), expecting(s1, 2));
    assert.equal([s1, s2, s3], [1, 2, 3]);

    let refused: unknown;
    await publishToStream(requests, "wire.a", bytes("late"), expecting(s1, 2)).catch(
      (err) => (refused = err),
    );
    assert.ok(isWrongLastSequence(refused), `a wrong last sequence, got ${String(refused)}`);
    assert.is(electionError(refused), undefined, "not a refusal to wait out");

    const last = await directGet(requests, STREAM, { last_by_subj: "wire.a" });
    assert.equal(
      last && { subject: last.subject, seq: last.seq, data: new TextDecoder().decode(last.data) },
      { subject: "wire.a", seq: 3, data: "two" },
    );
    assert.is(last?.header?.get("Troupe-Pos"), "2", "the message's own headers too");
    const next = await directGet(requests, STREAM, { seq: 2, next_by_subj: "wire.a" });
    assert.is(next?.seq, 3, "the first of the subject at or after sequence 2");
    assert.is(await directGet(requests, STREAM, { last_by_subj: "wire.none" }), null);
    assert.is(await directGet(requests, STREAM, { seq: 4, next_by_subj: "wire.a" }), null);

    let unheard: unknown;
    await publishToStream(requests, "nowhere.a", bytes("x"), expecting(0, 1)).catch(
      (err) => (unheard = err),
    );
    assert.is(electionError(unheard), "refused", `no stream takes it: ${String(unheard)}`);
  } finally {
    requests.close();
    await jsm.streams.delete(STREAM);
  }
});

test.run();

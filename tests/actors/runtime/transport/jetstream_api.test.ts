/**
 * JetStream API requests on an inbox (jetstream_api.ts), on a real nats-server: a filtered purge
 * below a sequence purges what nats.js's manager would (the subject's messages before it, no other
 * subject's), and JetStream's refusal (a stream that is not there) is thrown as nats.js's
 * `JetStreamApiError` with JetStream's codes, as the manager throws it.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { jetstream, JetStreamApiError, jetstreamManager } from "@nats-io/jetstream";
import {
  electionError,
  InboxRequests,
  jetStreamApi,
  purgeStream,
} from "../../../../actors/runtime/transport/mod.ts";
import { haveNatsServer, natsForSuite } from "../../../_support/nats.ts";

const test = suite("jetstream_api");
const it = haveNatsServer("jetstream_api") ? test : test.skip;
const nats = natsForSuite(test, it);

/** A stream `name` on `ja.<name>.>` holding 5 messages of `.a` and 3 of `.b`, interleaved. */
async function stream(name: string): Promise<number[]> {
  const jsm = await jetstreamManager(nats.nc);
  await jsm.streams.add({ name, subjects: [`ja.${name}.>`] });
  const js = jetstream(nats.nc);
  const aSeqs: number[] = [];
  for (let i = 0; i < 5; i++) {
    aSeqs.push((await js.publish(`ja.${name}.a`, new Uint8Array([i]))).seq);
    if (i < 3) await js.publish(`ja.${name}.b`, new Uint8Array([i]));
  }
  return aSeqs;
}

it("a filtered purge below a sequence purges as nats.js's manager does", async () => {
  const requests = new InboxRequests(nats.nc);
  try {
    const mine = await stream("MINE");
    const theirs = await stream("THEIRS");
    const jsm = await jetstreamManager(nats.nc);
    const purged = await purgeStream(
      requests,
      "MINE",
      { filter: "ja.MINE.a", seq: mine[3]! },
      5000,
    );
    const expected = await jsm.streams.purge("THEIRS", { filter: "ja.THEIRS.a", seq: theirs[3]! });
    assert.is(purged, 3);
    assert.is(purged, expected.purged);
    const [a, b] = [await jsm.streams.info("MINE"), await jsm.streams.info("THEIRS")];
    assert.is(a.state.messages, b.state.messages);
    assert.is(a.state.messages, 5, "the subject's last two and the other subject's three");
    const last = await jsm.streams.getMessage("MINE", { last_by_subj: "ja.MINE.a" });
    assert.is(last?.seq, mine[4]!);
    const info = await jetStreamApi<{ state: { messages: number } }>(
      requests,
      "STREAM.INFO.MINE",
      {},
      5000,
    );
    assert.is(info.state.messages, 5);
  } finally {
    requests.close();
  }
});

it("a refusal is nats.js's JetStreamApiError, JetStream's codes in it", async () => {
  const requests = new InboxRequests(nats.nc);
  try {
    let err: unknown;
    await purgeStream(requests, "NOT_THERE", { filter: "ja.x", seq: 2 }, 5000).catch((e) =>
      err = e
    );
    assert.instance(err, JetStreamApiError);
    const e = err as JetStreamApiError;
    assert.is(e.code, 10059, "stream not found");
    assert.match(e.message, /stream not found/);
    assert.is(electionError(err), undefined, "not an election's refusal: not tried again");
    let theirs: unknown;
    const jsm = await jetstreamManager(nats.nc);
    await jsm.streams.purge("NOT_THERE", { filter: "ja.x", seq: 2 }).catch((e) => theirs = e);
    assert.instance(theirs, JetStreamApiError);
    assert.is((theirs as JetStreamApiError).code, e.code);
  } finally {
    requests.close();
  }
});

test.run();

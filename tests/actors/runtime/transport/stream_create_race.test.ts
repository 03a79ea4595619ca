/**
 * Two processes creating the same JetStream stream at once (two hosts starting together): the
 * server may answer one of the adds "subjects overlap with an existing stream" while the other's
 * is under way. A call through retryJetStream retries that answer a few times, the stream then
 * made, and every add succeeds; a stream of another name holding the subjects still fails the open, naming the stream
 * it could not make. Against a real nats-server.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager, StorageType } from "@nats-io/jetstream";
import { ensureFeedStream } from "../../../../actors/runtime/edge/mod.ts";
import { retryJetStream } from "../../../../actors/runtime/transport/jetstream_retry.ts";
import { haveNatsServer, startTestNats } from "../../../_support/nats.ts";

const test = suite("stream create race");
const it = haveNatsServer("stream create race") ? test : test.skip;

/** Adds at once per round, and rounds: the race showed in about one add of a hundred. */
const AT_ONCE = 6, ROUNDS = 300;

it("adds of one stream at once from several connections all succeed, retried", async () => {
  const nats = await startTestNats();
  const conns = await Promise.all(
    Array.from({ length: AT_ONCE }, () => connect({ servers: nats.url })),
  );
  try {
    const jsms = await Promise.all(conns.map((nc) => jetstreamManager(nc)));
    const failed: string[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const name = `RACE_${r}`;
      const config = { name, subjects: [`race${r}.>`], storage: StorageType.File };
      await Promise.all(jsms.map((jsm) =>
        // As every open makes its stream: repeatable, adding one that exists as asked succeeds.
        retryJetStream(`open the stream ${name}`, () => jsm.streams.add(config), {
          repeatable: true,
        }).catch((err) => {
          failed.push(`round ${r}: ${(err as Error).message}`);
        })
      ));
    }
    assert.equal(failed, []);
  } finally {
    for (const nc of conns) await nc.close();
    await nats.cleanup();
  }
});

it("a stream of another name holding the subjects fails the open, naming it", async () => {
  const nats = await startTestNats();
  const nc = await connect({ servers: nats.url });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: "OTHER",
      subjects: ["troupe.feed.>"],
      storage: StorageType.File,
    });
    const err = await ensureFeedStream(nc, { stream: "MINE" }).then(() => undefined, (e) => e);
    assert.instance(err, Error);
    assert.match(
      (err as Error).message,
      "Cannot open the feed stream MINE: subjects overlap with an existing stream " +
        "(its subjects are another stream's)",
    );
  } finally {
    await nc.close();
    await nats.cleanup();
  }
});

test.run();

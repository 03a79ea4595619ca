/**
 * A static host on JetStream input, killed with appends in flight, against a real nats-server:
 * appends to different journal streams are pipelined, so one channel's journal can end past a
 * frame another channel's journal never got. The host resumes its input after the lowest source
 * position an instance took, not the highest journaled: the frame the other channel missed is
 * read again and applied once, and nothing another channel took is applied twice.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { ACTOR_KINDS } from "../../../../actors/mod.ts";
import {
  defaultHostConfig,
  ensureFeedStream,
  FEED_STREAM,
  type HostConfig,
  jetStreamInput,
  JetStreamJournal,
  launchHost,
} from "../../../../actors/runtime/mod.ts";
import { JOURNAL_STREAM } from "../../../../actors/runtime/journal/jetstream/jetstream_journal.ts";
import { encodeInputRecord, feedSubject } from "../../../../protocol/mod.ts";
import {
  FRAME_SAMPLES,
  type Launched,
  sineFrame,
  statsCount,
} from "../../../_support/stats_feed.ts";
import { haveNatsServer, natsForSuite, tempDir } from "../../../_support/nats.ts";

const test = suite("resume from the lowest source position");
const it = haveNatsServer("resume from the lowest source position") ? test : test.skip;

const nats = natsForSuite(test, it);

const BATCH = FRAME_SAMPLES;

function hostConfig(dir: string): HostConfig {
  const config = defaultHostConfig();
  config.host_id = "low";
  config.nats = nats.url;
  config.data_dir = join(dir, "low");
  config.input = "jetstream";
  config.journal = { ...config.journal, kind: "jetstream" };
  // No snapshot survives: each instance is what its journal holds, as after a kill.
  config.snapshots = { store: "memory", every_inputs: 1_000_000, every_ms: 3_600_000 };
  config.actors = { stats: { every_samples: 1_000_000 } };
  return config;
}

/**
 * One journal ends past a frame another never got; the host is started again by `launch`: the
 * frame is read again and applied once, and nothing is applied twice.
 */
async function resumesFromLowest(
  launch: (config: HostConfig) => Promise<Launched>,
): Promise<void> {
  const dir = tempDir();
  try {
    await ensureFeedStream(nats.nc);
    // Each case from empty streams: what the one before left is not read again.
    const jsm = await jetstreamManager(nats.nc);
    await jsm.streams.purge(FEED_STREAM);
    await (await JetStreamJournal.open(nats.nc)).close();
    await jsm.streams.purge(JOURNAL_STREAM);
    const config = hostConfig(dir.path);
    let launched = await launch(config);
    const js = jetstream(nats.nc);
    // a0 b0 a1 b1 ... b7 a8, applied and journaled.
    for (let f = 0; f < 9; f++) {
      await js.publish(feedSubject("low", "a"), sineFrame("a", f));
      if (f < 8) await js.publish(feedSubject("low", "b"), sineFrame("b", f));
    }
    assert.is(await statsCount(launched, "a", 9 * BATCH), 9 * BATCH);
    assert.is(await statsCount(launched, "b", 8 * BATCH), 8 * BATCH);
    await launched.close();
    // Then b8 and a9, of which the host journaled a9 only and died: b8's append was in flight.
    await js.publish(feedSubject("low", "b"), sineFrame("b", 8));
    const a9 = await js.publish(feedSubject("low", "a"), sineFrame("a", 9));
    const journal = await JetStreamJournal.open(nats.nc);
    await journal.append(
      "stats/a",
      encodeInputRecord({
        kind: "frame",
        srcPos: a9.seq,
        subject: feedSubject("low", "a"),
        payload: sineFrame("a", 9),
      }),
    );
    await journal.close();

    launched = await launch(config);
    assert.is(await statsCount(launched, "b", 9 * BATCH), 9 * BATCH, "b8 read again from the feed");
    await new Promise((r) => setTimeout(r, 300)); // nothing more arrives
    assert.is(await statsCount(launched, "a", 10 * BATCH), 10 * BATCH, "a9 applied once");
    assert.is(await statsCount(launched, "b", 9 * BATCH), 9 * BATCH, "b8 applied once");
    await launched.close();
  } finally {
    dir.remove();
  }
}

it("a host whose one journal missed a frame below another's last resumes from the lowest: applied once", async () => {
  await resumesFromLowest((config) => launchHost(config, ACTOR_KINDS));
});

it("a host given its input by the caller resumes it from the lowest too: the host decides where", async () => {
  // Before the host decided it, only the launchers' own inputs were wrapped to resume from the
  // lowest: an input given to launchHost (as a host thread's) resumed after the highest.
  await resumesFromLowest((config) =>
    launchHost(config, ACTOR_KINDS, { input: jetStreamInput(nats.nc) })
  );
});

test.run();

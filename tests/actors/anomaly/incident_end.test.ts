/**
 * The anomaly incident's end after `refractory_samples` quiet samples: a second market jump
 * scored past the refractory period is an event of its own, not swallowed by the first jump's
 * open incident.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { anomalyActor } from "../../../actors/anomaly/mod.ts";
import { ActorInstance } from "../../../actors/runtime/mod.ts";
import { decodeEnvelope, encodeFrame, feedSubject } from "../../../protocol/mod.ts";
import { createMarketFeed, demoActorConfigs } from "../../../sim/mod.ts";

const test = suite("anomaly incident end");
const INTERVAL_US = 1_000_000;

test("a jump 57 samples after another on its channel is an event of its own (seed 4, SYM003)", () => {
  // `troupe bench incidents`' market, seed 4: SYM003 jumps at ticks 19,398 and 19,455; the second
  // scores 0.97, but with 100 samples to clear the first jump's incident was still open.
  const seed = 4, channel = "SYM003";
  const feed = createMarketFeed({
    intervalUs: INTERVAL_US,
    symbols: 10,
    seed,
    volume: false,
    batch: 100,
  });
  const config = anomalyActor.parseConfig(
    demoActorConfigs(INTERVAL_US).anomaly ?? {},
    anomalyActor.defaultConfig,
    "anomaly",
  );
  const actor = ActorInstance.create(anomalyActor, channel, config);
  const events: number[] = [];
  let pos = 0;
  for (let seen = 0; seen < 19_600;) {
    const frames = feed.next();
    for (const frame of frames) {
      pos++;
      if (frame.channel !== channel) continue;
      const payload = encodeFrame(frame, { id: `t-${pos}`, src: "test" });
      const record = {
        kind: "frame" as const,
        srcPos: pos,
        subject: feedSubject(feed.name, channel),
        payload,
      };
      for (const o of actor.apply(record, pos)) {
        const env = decodeEnvelope(o.data);
        if (env.type === "anomaly") events.push(env.ts);
      }
    }
    seen += frames[0]!.t.length;
  }
  actor.stop();
  const start = Number(feed.truth().options.startUs);
  const tick = (t: number) => (t - start) / INTERVAL_US;
  const jumps = feed.truth().anomalies
    .filter((a) => a.channel === channel && a.kind === "jump" && tick(a.onset) >= 19_000)
    .map((a) => a.onset);
  assert.equal(jumps.map(tick), [19_398, 19_455], `seed ${seed}: the jumps on ${channel}`);
  assert.equal(
    events.filter((t) => tick(t) >= 19_000).map(tick),
    [19_398, 19_455],
    `seed ${seed}: an event at each jump`,
  );
});

test.run();

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { encodeFrame, feedSubject } from "../../protocol/mod.ts";
import { createMarketFeed } from "../../sim/feeds/mod.ts";
import { RecordingWriter } from "../../sim/recording/mod.ts";
import { runTroupe } from "../_support/cli.ts";
import { tempDir } from "../_support/nats.ts";

const test = suite("troupe replay --threads");
const dir = tempDir("troupe-replay-threads-cli-");
test.after(() => dir.remove());
const path = join(dir.path, "feed.rec");

test.before(() => {
  // A feed-only recording of 8 market channels for stats and anomaly.
  const w = RecordingWriter.create(path, {
    source: "test",
    config: { actors: { stats: { every_samples: 100 }, anomaly: {} } },
  });
  const feed = createMarketFeed({ symbols: 8, seed: 2, batch: 50, volume: false });
  let t = 1_704_067_200_000_000;
  for (let step = 0; step < 12; step++) {
    for (const f of feed.next()) {
      w.append(
        feedSubject("market", f.channel),
        t += 1000,
        encodeFrame(f, { id: `f:${f.channel}:${f.seq0}`, src: "f" }),
      );
    }
  }
  w.close();
});

test("troupe replay --threads 2 runs the actors on two threads, with the outputs of one", async () => {
  const one = await runTroupe(["replay", path, "--threads", "1", "--json"]);
  const two = await runTroupe(["replay", path, "--threads", "2", "--json"]);
  assert.is(one.code, 0, one.stderr);
  assert.is(two.code, 0, two.stderr);
  const a = JSON.parse(one.stdout), b = JSON.parse(two.stdout);
  assert.is(a.threads, 0);
  assert.is(b.threads, 2);
  assert.is(b.samples, 8 * 12 * 50);
  assert.ok(a.outputs > 0);
  for (const k of ["inputs", "frames", "samples", "outputs", "rangeOutputs"]) {
    assert.is(b[k], a[k], k);
  }
});

test("troupe replay refuses a bad --threads, and --threads with --nats, with usage (exit 2)", async () => {
  for (const bad of ["0", "1.5", "x", "65"]) {
    const r = await runTroupe(["replay", path, "--threads", bad]);
    assert.is(r.code, 2, `--threads ${bad}: ${r.stderr}`);
    assert.match(r.stderr, `Option --threads must be an integer from 1 to 64, got "${bad}"`);
  }
  const r = await runTroupe(["replay", path, "--threads", "2", "--nats", "nats://127.0.0.1:1"]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, "drop --nats");
});

test.run();

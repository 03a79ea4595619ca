/**
 * The feed edge (actors/runtime/edge/feed_edge.ts) on its own: a feed message made an input, with the
 * host's clock read where a decision needs it, not for every frame.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor } from "../../../actors/mod.ts";
import { EdgeDecisions } from "../../../actors/runtime/edge/edge_decisions.ts";
import { FeedEdge } from "../../../actors/runtime/edge/feed_edge.ts";
import { hostLimits } from "../../../actors/runtime/host/host_options.ts";
import { MemoryJournal } from "../../../actors/runtime/mod.ts";
import {
  type AnyActorDefinition,
  type BusMessage,
  decodeFrame,
  encodeFrame,
  feedSubject,
} from "../../../protocol/mod.ts";

const test = suite("feed edge");

const BATCH = 4;

/** A feed message of `channel` whose first sample has sequence number `seq0`. */
function frameMessage(channel: string, seq0: number): BusMessage {
  const t = new Float64Array(BATCH).map((_, i) => 1_700_000_000_000_000 + (seq0 + i) * 1000);
  const v = new Float64Array(BATCH).map((_, i) => seq0 + i);
  const data = encodeFrame({ channel, seq0, t, v }, { id: `${channel}-${seq0}`, src: "test" });
  return { subject: feedSubject("market", channel), data, headers: undefined, reply: undefined };
}

test("input() reads the host's clock only for a frame that shows samples lost", () => {
  let reads = 0;
  let clockMs = 5_000;
  const limits = hostLimits({} as never);
  const edge = new FeedEdge({
    kinds: new Map<string, AnyActorDefinition>([["stats", statsActor]]),
    configs: new Map<string, unknown>([["stats", statsActor.defaultConfig]]),
    owns: () => true,
    limits,
    decode: (bytes) => decodeFrame(bytes, limits),
    decisions: new EdgeDecisions({ hostId: "h", journal: new MemoryJournal(), log: () => {} }),
    now: () => {
      reads++;
      return clockMs;
    },
  });
  for (let f = 0; f < 10; f++) {
    for (const ch of ["a", "b"]) {
      const input = edge.input(frameMessage(ch, f * BATCH), 0, true);
      assert.ok(input, `frame ${f} of ${ch} made no input`);
      assert.is(input.decoded.frame.seq0, f * BATCH);
    }
  }
  assert.is(reads, 0, "the clock was read for frames in sequence");
  assert.is(edge.gaps.gaps, 0);
  clockMs = 7_250;
  edge.input(frameMessage("a", 10 * BATCH + 3), 0, true); // 40..42 of "a" never came
  assert.is(reads, 1);
  assert.equal(edge.gaps.last, { channel: "a", from: 40, to: 42, atMs: 7_250 });
  edge.input(frameMessage("a", 11 * BATCH + 3), 0, true);
  assert.is(reads, 1, "the clock was read again for a frame in sequence");
});

test.run();

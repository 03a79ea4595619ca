/**
 * The feed edge (actors/runtime/edge/feed_edge.ts) on its own: a feed message made an input, with the
 * host's clock read where a decision needs it, not for every frame.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor } from "../../../../actors/mod.ts";
import { EdgeDecisions } from "../../../../actors/runtime/edge/edge_decisions.ts";
import { type EdgeInput, FeedEdge } from "../../../../actors/runtime/edge/feed_edge.ts";
import { hostLimits } from "../../../../actors/runtime/host/host_options.ts";
import { MemoryJournal } from "../../../../actors/runtime/mod.ts";
import {
  type AnyActorDefinition,
  type BusMessage,
  bytesEqual,
  decodeFrame,
  decodeInputRecord,
  encodeFeedBatch,
  encodeFrame,
  feedBatchSubject,
  feedSubject,
} from "../../../../protocol/mod.ts";
import { isStaleMarkerAt, setStaleMarker } from "../../../../protocol/prometheus/mod.ts";

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
    srcPosApplied: () => 0,
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
      assert.ok(input && "targets" in input, `frame ${f} of ${ch} made no input`);
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

test("input() splits a feed batch into a frame per channel, the stale marker left out, a channel over the limit refused alone", () => {
  const limits = { ...hostLimits({} as never), channelsMax: 2 };
  const refused: string[] = [];
  const edge = new FeedEdge({
    kinds: new Map<string, AnyActorDefinition>([["stats", statsActor]]),
    configs: new Map<string, unknown>([["stats", statsActor.defaultConfig]]),
    owns: () => true,
    srcPosApplied: () => 0,
    limits,
    decode: (bytes) => decodeFrame(bytes, limits),
    decisions: new EdgeDecisions({ hostId: "h", journal: new MemoryJournal(), log: () => {} }),
    now: () => 0,
    refuse: (frame) => refused.push(frame.subject),
  });
  const t0 = 1_700_000_000_000_000;
  const v = Float64Array.from([1, 2, 0, 5, 6]);
  setStaleMarker(v, 2);
  const data = encodeFeedBatch({
    channels: ["a", "b", "c"],
    n: Uint32Array.from([2, 2, 1]),
    t: Float64Array.from([t0, t0 + 1000, t0, t0 + 1000, t0]),
    v,
  }, { id: "rw-1", src: "receiver", ts: t0 });
  assert.ok(isStaleMarkerAt(v, 2));
  const msg = { subject: feedBatchSubject("prom"), data, headers: undefined, reply: undefined };
  const batch = edge.input(msg, 7, false);
  assert.ok(batch !== undefined && !("targets" in batch), "a feed batch gives an input a channel");
  const inputs = [...batch];
  assert.equal(inputs.map((i) => i.record.subject), ["troupe.feed.prom.a", "troupe.feed.prom.b"]);
  assert.equal([...inputs[0]!.decoded.frame.v], [1, 2]);
  assert.equal([...inputs[1]!.decoded.frame.v], [5], "b's stale marker left out");
  assert.equal([...inputs[1]!.decoded.frame.t], [t0 + 1000]);
  assert.is(inputs[0]!.decoded.envelope.id, "rw-1/a");
  assert.equal(inputs.map((i) => i.record.srcPos), [7, 7]);
  assert.equal(refused, ["troupe.feed.prom.c"], "c is past the host's limit of 2 channels");
});

test("input() hands a feed batch's channels on as values, decoding no frame, each as decoding its journaled message gives it", () => {
  const limits = hostLimits({} as never);
  let decodes = 0;
  const refused: string[] = [];
  const edge = new FeedEdge({
    kinds: new Map<string, AnyActorDefinition>([["stats", statsActor]]),
    configs: new Map<string, unknown>([["stats", statsActor.defaultConfig]]),
    owns: () => true,
    srcPosApplied: () => 0,
    limits,
    decode: (bytes) => (decodes++, decodeFrame(bytes, limits)),
    decisions: new EdgeDecisions({ hostId: "h", journal: new MemoryJournal(), log: () => {} }),
    now: () => 0,
    refuse: (frame, err) => refused.push(`${frame.subject}: ${(err as Error).message}`),
  });
  const t0 = 1_700_000_000_000_000, n = 40;
  // a: 40 samples a second apart (journaled as start and step); b: uneven times; c: a NaN.
  const t = new Float64Array(3 * n), v = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    t[i] = t0 + i * 1_000_000;
    t[n + i] = t0 + i * i * 1000;
    t[2 * n + i] = t0 + i;
    v[i] = i;
    v[n + i] = -i;
    v[2 * n + i] = i === 7 ? NaN : 1;
  }
  const data = encodeFeedBatch(
    { channels: ["a", "b", "c"], n: Uint32Array.from([n, n, n]), t, v },
    {
      id: "rw-2",
      src: "receiver",
      ts: t0,
    },
  );
  const msg = { subject: feedBatchSubject("prom"), data, headers: undefined, reply: undefined };
  const inputs = [...(edge.input(msg, 9, true) as Iterable<EdgeInput>)];
  assert.is(decodes, 0, "no channel's frame was decoded");
  assert.equal(inputs.map((i) => i.record.subject), ["troupe.feed.prom.a", "troupe.feed.prom.b"]);
  assert.equal(refused, [
    'troupe.feed.prom.c: Frame of channel "c": body.v[7] must be finite, got NaN',
  ]);
  for (const input of inputs) {
    const again = decodeFrame(input.record.payload, limits);
    assert.equal(input.decoded.frame, again.frame);
    assert.equal(input.decoded.envelope, again.envelope);
    // The journal's record reads back as the message, its times whole.
    const joined = new Uint8Array(input.bytes.reduce((a, b) => a + b.byteLength, 0));
    input.bytes.reduce((at, b) => (joined.set(b, at), at + b.byteLength), 0);
    const read = decodeInputRecord(joined);
    assert.ok(read.kind === "frame" && bytesEqual(read.payload, input.record.payload));
  }
  const sizes = inputs.map((i) => i.bytes.reduce((a, b) => a + b.byteLength, 0));
  assert.ok(
    sizes[0]! < sizes[1]! - n * 8 + 64,
    `a's even times journaled as start and step: ${sizes}`,
  );
});

test("a feed batch's channels are routed as they are named, in any order, and again once a kind's configuration changes routing", () => {
  const limits = hostLimits({} as never);
  // Routes a channel to the key its configuration's suffix gives it.
  const suffixed: AnyActorDefinition = {
    ...statsActor,
    route: (channel: string, config: unknown) => {
      const suffix = (config as { suffix?: string }).suffix;
      return [suffix === undefined ? channel : `${channel}-${suffix}`];
    },
  };
  const configs = new Map<string, unknown>([["stats", statsActor.defaultConfig]]);
  const edge = new FeedEdge({
    kinds: new Map<string, AnyActorDefinition>([["stats", suffixed]]),
    configs,
    owns: () => true,
    srcPosApplied: () => 0,
    limits,
    decode: (bytes) => decodeFrame(bytes, limits),
    decisions: new EdgeDecisions({ hostId: "h", journal: new MemoryJournal(), log: () => {} }),
    now: () => 0,
  });
  const t0 = 1_700_000_000_000_000;
  let pos = 0;
  const keys = (channels: string[]): string[] => {
    const n = channels.length;
    const data = encodeFeedBatch({
      channels,
      n: new Uint32Array(n).fill(1),
      t: new Float64Array(n).fill(t0 + pos),
      v: new Float64Array(n).fill(1),
    }, { id: `rw-${++pos}`, src: "receiver", ts: t0 });
    const msg = { subject: feedBatchSubject("prom"), data, headers: undefined, reply: undefined };
    const inputs = [...(edge.input(msg, pos, false) as Iterable<EdgeInput>)];
    return inputs.map((i) => `${i.decoded.frame.channel}>${i.targets.map(([, k]) => k)}`);
  };
  assert.equal(keys(["a", "b", "c", "d"]), ["a>a", "b>b", "c>c", "d>d"]);
  assert.equal(keys(["a", "b", "c", "d"]), ["a>a", "b>b", "c>c", "d>d"], "the same order again");
  assert.equal(keys(["a", "c", "b", "d"]), ["a>a", "c>c", "b>b", "d>d"], "another order");
  assert.equal(keys(["b", "c", "e"]), ["b>b", "c>c", "e>e"], "cut elsewhere, a channel new");
  configs.set("stats", { ...(statsActor.defaultConfig as object), suffix: "z" });
  assert.equal(
    keys(["a", "c", "b", "d"]),
    ["a>a-z", "c>c-z", "b>b-z", "d>d-z"],
    "routed by the new configuration",
  );
  assert.equal(keys(["b", "c", "e"]), ["b>b-z", "c>c-z", "e>e-z"]);
});

test.run();

/**
 * Output ids: the key written once where the input id (a feed batch's frame's) ends in it, and
 * the ids of one kind's outputs distinct across inputs, keys and indexes whichever form each
 * takes.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { outputId } from "../../protocol/mod.ts";

test("a feed batch frame's outputs name the channel once; other inputs' name the key", () => {
  const frame = "remote_write-0123456789abcdef-7/a-host0_9100-node-node_load1";
  assert.is(
    outputId(frame, "anomaly", "a-host0_9100-node-node_load1", "c"),
    `${frame}:anomaly:c`,
  );
  assert.is(outputId(frame, "anomaly", "a-host0_9100-node-node_load1", 1), `${frame}:anomaly:1`);
  // A group's instance fed that frame keeps its key; so does an input that names no channel.
  assert.is(outputId(frame, "coherence", "g1", 0), `${frame}:coherence:g1:0`);
  assert.is(outputId("in-3", "stats", "a", 0), "in-3:stats:a:0");
  // Ends in the key without the slash before it: another channel's frame.
  assert.is(outputId("b/xa", "stats", "a", "c"), "b/xa:stats:a:c");
  assert.is(outputId("a", "stats", "a", "c"), "a:stats:a:c");
  assert.is(outputId("/a", "stats", "a", "c"), "/a:stats:c");
});

test("one kind's output ids are distinct over inputs, keys and indexes of either form", () => {
  const keys = ["a", "b", "ab", "a-b", "b_a", "stats", "c", "0"];
  const inputs = ["x", "x:stats", "x:stats:a", "x/a", "x/b", "x/ab", "x/a-b", "x/stats", "y/c"];
  const all = new Set(inputs);
  for (const i of inputs) {
    for (const tail of ["/a", ":a", ":stats:c", ":stats:a"]) all.add(i + tail);
  }
  const seen = new Map<string, string>();
  for (const input of all) {
    for (const key of keys) {
      for (const n of [0, 1, "c"] as const) {
        const id = outputId(input, "stats", key, n);
        const what = `${input} ${key} ${n}`;
        assert.is(seen.get(id), undefined, `${what} and ${seen.get(id)} make ${id}`);
        seen.set(id, what);
      }
    }
  }
});

test.run();

/** The warm-up marker: an id marked once stays marked, and only a marked id reads as warm-up. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { isWarmupId, WARMUP_ID_PREFIX, warmupId } from "../../protocol/mod.ts";

test("warmupId() marks an id once; isWarmupId() reads the mark and nothing else", () => {
  const id = warmupId("remote_write-ab12-history");
  assert.is(id, `${WARMUP_ID_PREFIX}remote_write-ab12-history`);
  assert.is(warmupId(id), id);
  assert.ok(isWarmupId(id));
  // A batch's frame id is the batch's and the channel's: still marked.
  assert.ok(isWarmupId(`${id}-0/a-node-node_load1`));
  assert.not.ok(isWarmupId("remote_write-ab12"));
  assert.not.ok(isWarmupId(`x${id}`));
});

test.run();

/**
 * `troupe bench kernel-bytes`' measure: the bytes a channel's kernel states hold in memory, by
 * kind, against what they save. The collapse state's ring grows with what it holds, and its
 * season blocks have room for what its season uses, so a channel's first samples hold little more
 * than they save; the anomaly state's key list is saved as the list, not as the table of 1,024
 * slots it would become; the stats state holds what it saves; the bars states of a host share one
 * closed-bars scratch.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { kindBytes } from "../../bench/kernel_bytes.ts";
import { seasonBlockLength } from "../../actors/collapse/_season.ts";

const test = suite("bench kernel-bytes");

test("a channel's first samples' collapse state holds what it saves, its ring's room and its seasons' level room", () => {
  // It saves its ring as far as reached and its seasons' features in use (the level's alone: the
  // default has no season); it holds the ring's room (20 samples in 32 slots of a value and a
  // time) and room in each season block for the level's coefficient and its variance's row.
  const { held, saved } = kindBytes("collapse", 3, 20);
  const ringRoom = (32 - 20) * 2 * 8, levelRoom = 2 * (seasonBlockLength(1) - 2) * 8;
  assert.is(held - saved, ringRoom + levelRoom, `${held} bytes held, ${saved} saved`);
});

test("a channel's first samples' anomaly state saves its few keys, not a table of 1,024", () => {
  const { held, saved } = kindBytes("anomaly", 3, 20);
  // A table of 1,024 slots is 12 KiB of keys and births alone.
  assert.ok(held > 0 && saved < 12 * 1024, `${held} bytes held, ${saved} saved`);
});

test("a stats state holds the bytes it saves", () => {
  const { held, saved } = kindBytes("stats", 3, 20);
  assert.ok(held > 0);
  assert.is(held, saved);
});

test("bars states share one scratch: a channel among 8 holds 7/8 of its 16 bars less", () => {
  const alone = kindBytes("bars", 1, 20), among = kindBytes("bars", 8, 20);
  // 16 bars of 8 values of 8 bytes, held by one channel alone, by 8 an eighth each.
  assert.is(alone.held - among.held, 1024 - 1024 / 8);
  assert.is(alone.saved, among.saved);
});

test.run();

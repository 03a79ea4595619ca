/**
 * `troupe bench kernel-bytes`' measure: the bytes a channel's kernel states hold in memory, by
 * kind, against what they save. The collapse state's ring grows with what it holds, so a
 * channel's first samples hold well under what its snapshots do (the ring saved whole); the
 * anomaly state's key list is saved as the list, not as the table of 1,024 slots it would become;
 * the stats state holds what it saves; the bars states of a host share one closed-bars scratch.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { kindBytes } from "../../bench/kernel_bytes.ts";

const test = suite("bench kernel-bytes");

test("a channel's first samples' collapse state saves under half what it holds", () => {
  // Its ring as far as reached and its seasons' features in use; it holds the ring's room and
  // the seasons at their largest.
  const { held, saved } = kindBytes("collapse", 3, 20);
  assert.ok(saved > 0 && saved < held / 2, `${held} bytes held, ${saved} saved`);
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

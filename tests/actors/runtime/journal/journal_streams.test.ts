/**
 * The journal's streams by name's bytes (_journal_streams.ts `named`): each name found as the same
 * stream however the names come (in the order they were first met, the guess it tries first, or
 * in any other), names of one length told apart byte by byte, and names met by string first.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { JournalStreams } from "../../../../actors/runtime/journal/_journal_streams.ts";
import { Prng } from "../../../../sim/prng/mod.ts";

const test = suite("journal_streams");
const utf8 = new TextEncoder();

/** `names` laid end to end in one buffer, with each one's offset and length. */
function laid(names: readonly string[]): { buf: Uint8Array; at: number[]; len: number[] } {
  const parts = names.map((n) => utf8.encode(n));
  const buf = new Uint8Array(parts.reduce((s, p) => s + p.length + 3, 0));
  const at: number[] = [], len: number[] = [];
  let p = 0;
  for (const part of parts) {
    p += 3; // bytes between names, as records have
    buf.set(part, p);
    at.push(p);
    len.push(part.length);
    p += part.length;
  }
  return { buf, at, len };
}

test("named() finds each stream again in the order met, in a shuffled order and in reverse", () => {
  const streams = new JournalStreams();
  // One length, names that differ only in their last byte: the guess must compare every byte.
  const names = Array.from({ length: 200 }, (_, i) => `anomaly/host-${String(i).padStart(4, "0")}`);
  const { buf, at, len } = laid(names);
  const first = names.map((_, i) => streams.named(buf, at[i]!, len[i]!));
  assert.equal(first.map((s) => s.name), names);
  assert.equal(first.map((s) => s.id), names.map((_, i) => i));
  const prng = new Prng(3);
  const shuffled = names.map((_, i) => i);
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = prng.int(i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  for (const order of [names.map((_, i) => i), shuffled, names.map((_, i) => 199 - i)]) {
    for (const i of order) assert.is(streams.named(buf, at[i]!, len[i]!), first[i], names[i]);
  }
  assert.equal(streams.names(), names);
});

test("named() finds a stream registered by its string, and a new name after a guessed one", () => {
  const streams = new JournalStreams();
  const a = streams.intern("stats/a");
  const { buf, at, len } = laid(["stats/a", "stats/b", "stats/a", "stats/c"]);
  assert.is(streams.named(buf, at[0]!, len[0]!), a);
  const b = streams.named(buf, at[1]!, len[1]!);
  assert.is(b.name, "stats/b");
  assert.is(b.id, 1);
  assert.is(streams.named(buf, at[2]!, len[2]!), a);
  // The guess after `a` is `b`, of the same length: a third name is a new stream.
  const c = streams.named(buf, at[3]!, len[3]!);
  assert.equal([c.name, c.id], ["stats/c", 2]);
  assert.is(streams.get("stats/c"), c);
});

test.run();

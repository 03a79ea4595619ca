/**
 * The tick notices' wire (protocol/tick_notice.ts): what is encoded decodes the same, a tick after
 * no input keeps no `after`, and a notice that is not one is refused naming the entry, the field
 * and the value.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  decodeTickNotices,
  encodeTickNotices,
  encodeValue,
  ProtocolError,
  tickSubject,
} from "../../protocol/mod.ts";

const test = suite("tick_notice");

test("notices round-trip, with and without the input they came after", () => {
  const notices = [
    { stream: "bars/a", tick: Uint8Array.of(1, 2, 3), after: "f1" },
    { stream: "bars/b", tick: Uint8Array.of(4) },
  ];
  assert.equal(decodeTickNotices(encodeTickNotices(notices)), notices);
  assert.is(tickSubject("host-1"), "troupe.tick.host-1");
  assert.throws(() => tickSubject("a.b"), /host id/);
});

test("a notice that is not one is refused naming where, the field and the value", () => {
  const refused = (value: unknown, message: RegExp) => {
    try {
      decodeTickNotices(encodeValue(value), "tick notices on troupe.tick.h");
      assert.unreachable("decoded");
    } catch (err) {
      assert.instance(err, ProtocolError);
      assert.match((err as Error).message, message);
    }
  };
  refused(
    { v: 2, ticks: [] },
    /Cannot decode tick notices on troupe\.tick\.h: field "v" must be 1/,
  );
  refused({ v: 1, ticks: 3 }, /field "ticks" must be an array, got 3/);
  refused({ v: 1, ticks: [["bars/a"]] }, /field "ticks\[0\]" must be an array \[stream, tick/);
  refused({ v: 1, ticks: [["bars", Uint8Array.of(1)]] }, /"ticks\[0\]\[0\]" must be a stream/);
  refused({ v: 1, ticks: [["bars/a", "x"]] }, /"ticks\[0\]\[1\]" must be bytes, got "x"/);
  refused(
    { v: 1, ticks: [["bars/a", Uint8Array.of(1), 7]] },
    /"ticks\[0\]\[2\]" must be an input id/,
  );
});

test.run();

import { suite } from "uvu";
import * as assert from "uvu/assert";
import * as decoding from "lib0/decoding";
import { readAuthMessage } from "y-protocols/auth";
import * as Y from "yjs";
import {
  decodeRoomMessage,
  encodePermissionDenied,
  encodeRoomMessage,
  MalformedMessageError,
  MESSAGE_AUTH,
  type RoomMessage,
} from "../../protocol/mod.ts";
import { Prng } from "../../sim/prng/mod.ts";

const test = suite("room messages (y-websocket) on the wire");

function bytes(rng: Prng, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => rng.int(256));
}

test("encodeRoomMessage() and decodeRoomMessage() round-trip every message a client sends", () => {
  const seed = 34;
  const rng = new Prng(seed);
  for (const n of [0, 1, 127, 128, 70_000]) {
    const messages: RoomMessage[] = [
      { type: "step1", stateVector: bytes(rng, n) },
      { type: "step2", update: bytes(rng, n) },
      { type: "update", update: bytes(rng, n) },
      { type: "awareness", update: bytes(rng, n) },
      { type: "query-awareness" },
    ];
    for (const m of messages) {
      assert.equal(decodeRoomMessage(encodeRoomMessage(m)), m, `seed ${seed}, ${m.type} of ${n}`);
    }
  }
});

test("decodeRoomMessage() reads what a Yjs document's own sync step 1 is", () => {
  const doc = new Y.Doc();
  doc.getMap("m").set("k", 1);
  const sv = Y.encodeStateVector(doc);
  const m = decodeRoomMessage(encodeRoomMessage({ type: "step1", stateVector: sv }));
  assert.equal(m, { type: "step1", stateVector: sv });
});

test("decodeRoomMessage() refuses an unknown type, a cut message and trailing bytes", () => {
  const update = encodeRoomMessage({ type: "update", update: new Uint8Array([1, 2, 3]) });
  const cases: Array<[Uint8Array, RegExp]> = [
    [new Uint8Array([9]), /unknown message type 9/],
    [new Uint8Array([0, 7, 0]), /unknown sync message type 7/],
    [new Uint8Array([MESSAGE_AUTH, 0, 0]), /unknown message type 2/],
    [update.subarray(0, update.length - 1), /cannot decode a 5-byte message/],
    [Uint8Array.from([...update, 0, 0]), /2 bytes after the message's end/],
    [new Uint8Array(0), /cannot decode a 0-byte message/],
  ];
  for (const [b, message] of cases) {
    assert.throws(() => decodeRoomMessage(b), (err: Error) => {
      return err instanceof MalformedMessageError && message.test(err.message);
    });
  }
});

test("encodePermissionDenied() writes what y-protocols' auth reader hands its handler", () => {
  const reason = "A viewer may not write to this session: é";
  const d = decoding.createDecoder(encodePermissionDenied(reason));
  assert.is(decoding.readVarUint(d), MESSAGE_AUTH);
  let got: string | undefined;
  readAuthMessage(d, new Y.Doc(), (_doc, r) => (got = r));
  assert.is(got, reason);
});

test.run();

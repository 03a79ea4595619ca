import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  decodeCatchUp,
  decodePeerMessage,
  encodeCatchUp,
  encodePeerMessage,
  MalformedMessageError,
  PEER_KINDS,
  type PeerMessage,
} from "../../protocol/mod.ts";
import { Prng } from "../../sim/prng/mod.ts";

const test = suite("peer messages and catch-up answers on the wire");

function bytes(rng: Prng, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => rng.int(256));
}

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected an error, got none");
}

test("encodePeerMessage() and decodePeerMessage() round-trip every kind", () => {
  const seed = 341;
  const rng = new Prng(seed);
  for (const kind of PEER_KINDS) {
    for (const n of [0, 1, 200, 70_000]) {
      const m: PeerMessage = kind === "repair"
        ? { node: "node-b", kind, target: "nöde-a", payload: bytes(rng, n) }
        : { node: `node-${n}`, kind, payload: bytes(rng, n) };
      assert.equal(decodePeerMessage(encodePeerMessage(m)), m, `seed ${seed}, ${kind} of ${n}`);
    }
  }
});

test("encodePeerMessage() refuses a repair without its target, an unknown kind, a payload not bytes", () => {
  // The old encoder wrote a repair without a target with target "", for no node.
  const payload = new Uint8Array([1]);
  const cases: Array<[PeerMessage, RegExp]> = [
    [{ node: "a", kind: "repair", payload }, /field "target" must name the node .*, got undefined/],
    [{ node: "a", kind: "repair", target: "", payload }, /field "target" .*, got ""/],
    [{ node: "a", kind: "gossip" as "update", payload }, /field "kind" must be one of update, /],
    [{ node: "a", kind: "update", payload: [1] as unknown as Uint8Array }, /field "payload"/],
  ];
  for (const [m, message] of cases) {
    const err = thrown(() => encodePeerMessage(m));
    assert.instance(err, MalformedMessageError);
    assert.match(err.message, message);
  }
});

test("decodePeerMessage() names the field it cannot read, and refuses trailing bytes", () => {
  const good = encodePeerMessage({
    node: "n1",
    kind: "repair",
    target: "n2",
    payload: new Uint8Array(4),
  });
  const cases: Array<[Uint8Array, RegExp]> = [
    [new Uint8Array(0), /peer message of 0 bytes: field "node" cannot be read/],
    [new Uint8Array([2, 0x6e, 0x31, 9]), /field "kind" must be a code from 0 to 3, got 9/],
    [good.subarray(0, 5), /field "target" cannot be read/],
    [good.subarray(0, good.length - 1), /field "payload" cannot be read/],
    [Uint8Array.from([...good, 0]), /1 bytes after its end/],
  ];
  for (const [b, message] of cases) {
    const err = thrown(() => decodePeerMessage(b));
    assert.instance(err, MalformedMessageError);
    assert.match(err.message, message);
  }
});

test("encodeCatchUp() and decodeCatchUp() round-trip; a cut or padded answer is refused", () => {
  const rng = new Prng(342);
  const update = bytes(rng, 300), stateVector = bytes(rng, 9);
  const b = encodeCatchUp(update, stateVector);
  assert.equal(decodeCatchUp(b), { update, stateVector });
  assert.equal(decodeCatchUp(encodeCatchUp(new Uint8Array(0), new Uint8Array(0))), {
    update: new Uint8Array(0),
    stateVector: new Uint8Array(0),
  });
  // The old decoder took an answer with bytes after its end.
  const padded = thrown(() => decodeCatchUp(Uint8Array.from([...b, 7])));
  assert.instance(padded, MalformedMessageError);
  assert.match(padded.message, /catch-up answer of \d+ bytes: 1 bytes after its end/);
  const cut = thrown(() => decodeCatchUp(b.subarray(0, b.length - 2)));
  assert.match(cut.message, /field "stateVector" cannot be read/);
});

test.run();

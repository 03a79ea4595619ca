import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  decodeStageLease,
  encodeStageLease,
  encodeValue,
  ProtocolError,
  stageLeaseKey,
} from "../../protocol/mod.ts";

const test = suite("stage leases on the wire");

test("encodeStageLease() and decodeStageLease() round-trip a lease", () => {
  const lease = { stage: "incidents", owner: "host-2", epoch: 41, renewedMs: 1_700_000_000_123 };
  assert.equal(decodeStageLease(encodeStageLease(lease)), lease);
  assert.is(stageLeaseKey("incidents"), "stage.incidents");
});

test("decodeStageLease() names the key, the field and the value it rejects", () => {
  const bad = encodeValue({ v: 1, stage: "incidents", owner: "a.b", epoch: 2, renewed_ms: 0 });
  try {
    decodeStageLease(bad, "lease stage.incidents");
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ProtocolError);
    assert.is((err as ProtocolError).field, "owner");
    assert.match((err as Error).message, 'lease stage.incidents: field "owner"');
    assert.match((err as Error).message, '"a.b"');
  }
  const v2 = encodeValue({ v: 2, stage: "incidents", owner: "a", epoch: 2, renewed_ms: 0 });
  assert.throws(() => decodeStageLease(v2), /field "v" must be 1, got 2/);
  assert.throws(
    () => encodeStageLease({ stage: "in*", owner: "a", epoch: 1, renewedMs: 0 }),
    /field "stage"/,
  );
  assert.throws(() => stageLeaseKey("a.b"), /"a\.b"/);
});

test.run();

import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  decodeHostPresence,
  decodePartitionEvent,
  decodePartitionLease,
  encodeHostPresence,
  encodePartitionEvent,
  encodePartitionLease,
  encodeValue,
  partitionEventSubject,
  ProtocolError,
} from "../../protocol/mod.ts";

const test = suite("partition leases on the wire");

test("encodePartitionLease() and decodePartitionLease() round-trip a lease", () => {
  const lease = { partition: 7, owner: "host-2", epoch: 41, renewedMs: 1_700_000_000_123 };
  assert.equal(decodePartitionLease(encodePartitionLease(lease)), lease);
});

test("decodePartitionLease() names the key, the field and the value it rejects", () => {
  const bad = encodeValue({ v: 1, partition: 3, owner: "a.b", epoch: 2, renewed_ms: 0 });
  try {
    decodePartitionLease(bad, "lease partition.3");
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ProtocolError);
    assert.is((err as ProtocolError).field, "owner");
    assert.match((err as Error).message, 'lease partition.3: field "owner"');
    assert.match((err as Error).message, '"a.b"');
  }
  const v2 = encodeValue({ v: 2, partition: 3, owner: "a", epoch: 2, renewed_ms: 0 });
  assert.throws(() => decodePartitionLease(v2), /field "v" must be 1, got 2/);
  assert.throws(() => encodePartitionLease({ partition: 1, owner: "a", epoch: 0, renewedMs: 0 }));
});

test("encodeHostPresence() and decodeHostPresence() round-trip, with and without a port", () => {
  const a = { host: "h1", startedMs: 1, renewedMs: 2, httpPort: 9100 };
  const b = { host: "h2", startedMs: 1, renewedMs: 2 };
  assert.equal(decodeHostPresence(encodeHostPresence(a)), a);
  assert.equal(decodeHostPresence(encodeHostPresence(b)), b);
  assert.throws(
    () => decodeHostPresence(encodeValue({ v: 1, host: "", started_ms: 1, renewed_ms: 1 })),
    /field "host"/,
  );
});

test("encodePartitionEvent() and decodePartitionEvent() round-trip each kind of change", () => {
  for (const what of ["claimed", "taken", "released", "lost"] as const) {
    const ev = {
      what,
      partition: 5,
      host: "h3",
      epoch: 12,
      reason: "lease of h1 expired",
      ts: 1_000_000,
    };
    assert.equal(decodePartitionEvent(encodePartitionEvent(ev)), ev);
    assert.is(partitionEventSubject(what), `troupe.sys.partition.${what}`);
  }
  assert.is(partitionEventSubject("*"), "troupe.sys.partition.*");
});
test.run();

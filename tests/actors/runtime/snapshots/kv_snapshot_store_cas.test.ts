/**
 * The snapshot bucket's compare-and-set, sent on the store's own inbox: a save replaces what it
 * read (an entry, a delete's or a purge's marker, or nothing) and is refused when another writer
 * put the key in between.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Kvm } from "@nats-io/kv";
import {
  encodeSnapshot,
  type Snapshot,
} from "../../../../actors/runtime/snapshots/snapshot_store.ts";
import { KvSnapshotStore } from "../../../../actors/runtime/snapshots/kv/kv_snapshot_store.ts";
import { haveNatsServer, natsForSuite } from "../../../_support/nats.ts";

const test = suite("kv_snapshot_store_cas");
const it = haveNatsServer("kv_snapshot_store_cas") ? test : test.skip;
const nats = natsForSuite(test, it);
let bucketNo = 0;

function sample(stream: string, pos: number): Snapshot {
  return {
    stream,
    version: 1,
    pos,
    machine: { status: "active", value: "ready", context: { n: pos } },
    kernel: new Uint8Array([pos, 1, 2, 3]),
    meta: { savedAtUs: 1_700_000_000_000_000, host: "h1" },
  };
}

it("a save replaces a key that is new, deleted or purged, and the last put", async () => {
  const bucket = `snapshots_cas${++bucketNo}`;
  const store = await KvSnapshotStore.open(nats.nc, { bucket });
  const kv = await new Kvm(nats.nc).open(bucket);
  try {
    await store.save(sample("stats/A", 1));
    await store.save(sample("stats/A", 2));
    assert.is((await store.load("stats/A"))?.pos, 2);
    await kv.delete("stats=2FA");
    assert.is(await store.load("stats/A"), undefined, "a delete's marker is no snapshot");
    await store.save(sample("stats/A", 3));
    assert.is((await store.load("stats/A"))?.pos, 3);
    await kv.purge("stats=2FA");
    await store.save(sample("stats/A", 4));
    assert.equal(await store.load("stats/A"), sample("stats/A", 4));
    assert.is((await kv.get("stats=2FA"))?.operation, "PUT");
  } finally {
    await store.close();
  }
});

it("a save is refused when another writer put the key after its read, and leaves that value", async () => {
  const bucket = `snapshots_cas${++bucketNo}`;
  const store = await KvSnapshotStore.open(nats.nc, { bucket });
  const kv = await new Kvm(nats.nc).open(bucket);
  try {
    await store.save(sample("stats/B", 1));
    let raced = false;
    // Asked right before the replacement is sent: another writer's put, published on the same
    // connection (into the bucket's stream), reaches the server first.
    const guard = () => {
      if (!raced) {
        raced = true;
        nats.nc.publish(`$KV.${bucket}.stats=2FB`, encodeSnapshot(sample("stats/B", 7)));
      }
      return undefined;
    };
    await store.save(sample("stats/B", 2), { guard }).then(
      () => assert.unreachable("a stale compare-and-set was taken"),
      (err: Error) => assert.match(err.message, /wrong last sequence/),
    );
    assert.ok(raced);
    assert.is((await store.load("stats/B"))?.pos, 7);
    assert.is((await kv.get("stats=2FB"))?.revision, 2, "the other writer's put");
    // The next save reads the key again and replaces it.
    await store.save(sample("stats/B", 8));
    assert.is((await store.load("stats/B"))?.pos, 8);
  } finally {
    await store.close();
  }
});

test.run();

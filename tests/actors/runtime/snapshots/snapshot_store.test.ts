import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FileSnapshotStore } from "../../../../actors/runtime/snapshots/file_snapshot_store.ts";
import {
  type CorruptSnapshotInfo,
  decodeSnapshot,
  encodeSnapshot,
  escapeStreamName,
  type Snapshot,
  SnapshotCorruptError,
  type SnapshotStore,
  unescapeStreamName,
} from "../../../../actors/runtime/snapshots/snapshot_store.ts";
import { Prng } from "../../../../sim/prng/mod.ts";
import { haveNatsServer, natsForSuite, tempDir } from "../../../_support/nats.ts";
import { Kvm } from "@nats-io/kv";
import { KvSnapshotStore } from "../../../../actors/runtime/snapshots/kv/kv_snapshot_store.ts";

const test = suite("snapshot_store");
const withNats = haveNatsServer("snapshot_store (KvSnapshotStore)") ? test : test.skip;

const nats = natsForSuite(test, withNats);
let bucketNo = 0;

function sample(stream: string, pos: number, kernelBytes = 64, seed = 1): Snapshot {
  const prng = new Prng(seed);
  const kernel = new Float64Array(kernelBytes / 8);
  for (let i = 0; i < kernel.length; i++) kernel[i] = prng.normal();
  return {
    stream,
    version: 3,
    pos,
    machine: { status: "active", value: { warm: "ready" }, context: { n: pos, band: [1.5, -2] } },
    kernel: new Uint8Array(kernel.buffer),
    meta: { savedAtUs: 1_700_000_000_000_000, host: "h1" },
  };
}

/** Runs the round trip every store must pass. */
async function roundTrip(store: SnapshotStore): Promise<void> {
  assert.is(await store.load("stats/BTC-USD"), undefined);
  await store.save(sample("stats/BTC-USD", 10));
  await store.save(sample("stats/BTC-USD", 20, 64, 2));
  await store.save(sample("anomaly/cpu_7", 5));
  const got = await store.load("stats/BTC-USD");
  assert.equal(got, sample("stats/BTC-USD", 20, 64, 2));
  const kernel = new Float64Array(got!.kernel.slice().buffer, 0, 8);
  assert.equal([...kernel], [...new Float64Array(sample("x", 0, 64, 2).kernel.buffer)]);
  assert.equal(await store.list(), ["anomaly/cpu_7", "stats/BTC-USD"]);
}

test("encodeSnapshot() and decodeSnapshot() round-trip every field", () => {
  const s = sample("coherence/equities", 1234, 800);
  const bytes = encodeSnapshot(s), back = decodeSnapshot(bytes);
  assert.equal(back, s);
  assert.is(back.kernel.buffer, bytes.buffer, "the kernel's bytes a view, not copied");
  const noMeta: Snapshot = {
    stream: "a/b",
    version: 1,
    pos: 0,
    machine: null,
    kernel: new Uint8Array(),
  };
  assert.equal(decodeSnapshot(encodeSnapshot(noMeta)), noMeta);
});

test("decodeSnapshot() rejects damaged bytes and encodeSnapshot() rejects a bad field, naming it", () => {
  const bytes = encodeSnapshot(sample("a/b", 1));
  for (const at of [0, 5, 20, bytes.length - 1]) {
    const copy = bytes.slice();
    copy[at]! ^= 0x10;
    assert.throws(() => decodeSnapshot(copy), (e: unknown) => e instanceof SnapshotCorruptError);
  }
  assert.throws(() => decodeSnapshot(bytes.subarray(0, bytes.length - 3)), /CRC mismatch/);
  assert.throws(
    () => encodeSnapshot({ ...sample("a/b", 1), pos: -1 }),
    /field "pos" must be an integer >= 0, got -1/,
  );
  assert.throws(
    () => encodeSnapshot({ ...sample("a/b", 1), meta: { x: true as unknown as number } }),
    /field "meta.x" must be a number or a string, got boolean/,
  );
});

test("escapeStreamName() keeps name characters, escapes the rest, and unescapes back", () => {
  assert.is(escapeStreamName("stats/BTC-USD"), "stats=2FBTC-USD");
  for (const s of ["stats/BTC-USD", "a.b c", "é/ü", "x=y", "_-"]) {
    const e = escapeStreamName(s);
    assert.match(e, /^[A-Za-z0-9_=-]+$/);
    assert.is(unescapeStreamName(e), s);
  }
  assert.is(unescapeStreamName("bad.name"), undefined);
});

test("FileSnapshotStore saves, replaces and loads snapshots, and lists their streams", async () => {
  const dir = tempDir();
  try {
    const store = await FileSnapshotStore.open(dir.path);
    await roundTrip(store);
    assert.equal(readdirSync(dir.path).sort(), ["anomaly=2Fcpu_7.snap", "stats=2FBTC-USD.snap"]);
    await store.close();
    const again = await FileSnapshotStore.open(dir.path);
    assert.equal((await again.load("anomaly/cpu_7"))?.pos, 5);
    await again.close();
  } finally {
    dir.remove();
  }
});

test("FileSnapshotStore: concurrent saves of one stream land in call order", async () => {
  const dir = tempDir();
  try {
    const store = await FileSnapshotStore.open(dir.path, { fsync: false });
    await Promise.all([1, 2, 3, 4, 5].map((pos) => store.save(sample("s/x", pos))));
    assert.is((await store.load("s/x"))?.pos, 5);
    await store.close();
  } finally {
    dir.remove();
  }
});

test("FileSnapshotStore reports a corrupt snapshot and treats it as absent", async () => {
  const dir = tempDir();
  try {
    const reports: CorruptSnapshotInfo[] = [];
    const store = await FileSnapshotStore.open(dir.path, { onCorrupt: (r) => reports.push(r) });
    await store.save(sample("stats/A", 7));
    await store.save(sample("stats/B", 8));
    const path = join(dir.path, "stats=2FA.snap");
    const bytes = readFileSync(path);
    bytes[bytes.length - 5]! ^= 0x01;
    writeFileSync(path, bytes);
    // A file holding another stream's snapshot is as wrong as a damaged one.
    writeFileSync(join(dir.path, "stats=2FC.snap"), readFileSync(join(dir.path, "stats=2FB.snap")));
    assert.is(await store.load("stats/A"), undefined);
    assert.is(await store.load("stats/C"), undefined);
    assert.is((await store.load("stats/B"))?.pos, 8);
    assert.equal(reports.map((r) => r.stream), ["stats/A", "stats/C"]);
    assert.is(reports[0]!.where, path);
    assert.match(reports[0]!.reason, /CRC mismatch/);
    assert.match(reports[1]!.reason, /holds a snapshot of stream "stats\/B"/);
    await store.close();
  } finally {
    dir.remove();
  }
});

withNats(
  "KvSnapshotStore saves, replaces and loads snapshots, and lists their streams",
  async () => {
    const bucket = `snapshots_t${++bucketNo}`;
    const store = await KvSnapshotStore.open(nats.nc, { bucket });
    await roundTrip(store);
    const kv = await new Kvm(nats.nc).open(bucket);
    const keys: string[] = [];
    for await (const k of await kv.keys()) keys.push(k);
    assert.equal(keys.sort(), ["anomaly=2Fcpu_7", "stats=2FBTC-USD"]);
    await store.close();
  },
);

withNats(
  "KvSnapshotStore splits a snapshot over the server's max payload into chunks and drops old ones",
  async () => {
    const bucket = `snapshots_t${++bucketNo}`;
    const store = await KvSnapshotStore.open(nats.nc, { bucket });
    const big = sample("coherence/equities", 9, 2_500_000, 4); // 2.5 MB > 1 MiB max payload
    await store.save(big);
    assert.equal(await store.load("coherence/equities"), big);
    const bigger = sample("coherence/equities", 10, 2_800_000, 5); // 3 chunks of 960 KiB
    await store.save(bigger);
    assert.equal(await store.load("coherence/equities"), bigger);
    const kv = await new Kvm(nats.nc).open(bucket);
    const chunkKeys: string[] = [];
    for await (const k of await kv.keys()) if (k.includes(".")) chunkKeys.push(k);
    assert.is(chunkKeys.length, 3, "only the newest generation's chunks are left");
    await store.save(sample("coherence/equities", 11));
    chunkKeys.length = 0;
    for await (const k of await kv.keys()) if (k.includes(".")) chunkKeys.push(k);
    assert.is(chunkKeys.length, 0);
    assert.is((await store.load("coherence/equities"))?.pos, 11);
    assert.equal(await store.list(), ["coherence/equities"]);
    await store.close();
  },
);

withNats("KvSnapshotStore refuses a snapshot over snapshotBytesMax, naming its size", async () => {
  const store = await KvSnapshotStore.open(nats.nc, {
    bucket: `snapshots_t${++bucketNo}`,
    snapshotBytesMax: 10_000,
  });
  await store.save(sample("a/b", 1, 16_000)).then(
    () => assert.unreachable("an oversize snapshot was saved"),
    (err) =>
      assert.match(
        (err as Error).message,
        /snapshot of stream "a\/b": \d+ bytes is over the limit of 10000 bytes/,
      ),
  );
  assert.is(await store.load("a/b"), undefined);
  await store.close();
});

withNats(
  "KvSnapshotStore reports a corrupt snapshot or a missing chunk and treats it as absent",
  async () => {
    const bucket = `snapshots_t${++bucketNo}`;
    const reports: CorruptSnapshotInfo[] = [];
    const store = await KvSnapshotStore.open(nats.nc, {
      bucket,
      onCorrupt: (r) => reports.push(r),
    });
    await store.save(sample("stats/A", 7));
    await store.save(sample("stats/B", 8, 1_500_000)); // 2 chunks
    const kv = await new Kvm(nats.nc).open(bucket);
    const bytes = (await kv.get("stats=2FA"))!.value.slice();
    bytes[bytes.length - 3]! ^= 0x04;
    await kv.put("stats=2FA", bytes);
    for await (const k of await kv.keys()) {
      if (k.startsWith("stats=2FB.") && k.endsWith(".1")) {
        await kv.purge(k);
      }
    }
    assert.is(await store.load("stats/A"), undefined);
    assert.is(await store.load("stats/B"), undefined);
    assert.equal(reports.map((r) => r.stream), ["stats/A", "stats/B"]);
    assert.is(reports[0]!.where, `${bucket}/stats=2FA`);
    assert.match(reports[0]!.reason, /CRC mismatch/);
    assert.match(reports[1]!.reason, /chunk 1 of 2 .* is missing/);
    // A new save replaces the damage.
    await store.save(sample("stats/A", 9));
    assert.is((await store.load("stats/A"))?.pos, 9);
    await store.close();
  },
);

test.run();

/**
 * Anti-entropy between nodes of different versions: a node says which peer message kinds it
 * reads in its digest's header; a node of the version before (digests with a name, no header)
 * reads `repair`; one of the version before that (digests without a name) drops `repair` as
 * malformed, so it is repaired with an `update`, which it reads.
 */
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import * as Y from "yjs";
import { NatsBus } from "../../actors/runtime/mod.ts";
import {
  decodeDigest,
  digestOf,
  digestSubject,
  encodeDigest,
  launchCollab,
  LEGACY_NODE,
  SPEAKS_HEADER,
} from "../../collab/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { connectClient, getText, metric, tokenFor, waitFor } from "./_support.ts";

const test = suite("collab anti-entropy across versions");

/** A digest as the oldest version encoded it: state vector and delete-set hash, no node. */
function legacyDigest(doc: Y.Doc): Uint8Array {
  const d = digestOf(doc, "unused");
  const e = encoding.createEncoder();
  encoding.writeVarUint8Array(e, d.stateVector);
  encoding.writeVarUint8Array(e, d.deleteSetHash);
  return encoding.toUint8Array(e);
}

test("decodeDigest() reads the oldest format as the legacy node, and the named one as before", () => {
  const doc = new Y.Doc();
  doc.getArray("a").push([1]);
  const legacy = decodeDigest(legacyDigest(doc));
  assert.is(legacy.node, LEGACY_NODE);
  assert.equal(legacy.stateVector, Y.encodeStateVector(doc));
  assert.is(decodeDigest(encodeDigest(digestOf(doc, "n1"))).node, "n1");
});

/**
 * A node of an older version on a real NATS connection, as that version's wire was: it publishes
 * digests of its document every 100 ms (`v1` without a node name, `v2` with one, neither with a
 * header) and merges the peer messages its decoder knew (kinds 0-2 for `v1`, 0-3 for `v2`),
 * counting any other as malformed, as that version's decoder did.
 */
class OlderNode {
  readonly doc = new Y.Doc();
  readonly kinds: number[] = [];
  malformed = 0;
  #bus: NatsBus;
  #timer: ReturnType<typeof setInterval>;

  constructor(bus: NatsBus, version: "v1" | "v2") {
    this.#bus = bus;
    const maxKind = version === "v1" ? 2 : 3;
    bus.subscribe("troupe.collab.ops", (m) => {
      const d = decoding.createDecoder(m.data);
      const node = decoding.readVarString(d);
      const kind = decoding.readVarUint(d);
      if (node === "old") return;
      if (kind > maxKind) return void this.malformed++;
      this.kinds.push(kind);
      if (kind === 1) return;
      if (kind === 3) decoding.readVarString(d); // the target
      Y.applyUpdate(this.doc, decoding.readVarUint8Array(d));
    });
    const digest = () =>
      version === "v1" ? legacyDigest(this.doc) : encodeDigest(digestOf(this.doc, "old"));
    this.#timer = setInterval(() => bus.publish(digestSubject("ops"), digest()), 100);
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#bus.close();
  }
}

async function withOlderNode(
  version: "v1" | "v2",
  fn: (a: { old: OlderNode; asUpdate(): Promise<number>; speaks: string[] }) => Promise<void>,
): Promise<void> {
  const nats = await startTestNats();
  const dir = tempDir("troupe-collab-aev-");
  const bus = await NatsBus.connect(nats.url, { name: "a" });
  const watcher = await NatsBus.connect(nats.url, { name: "watcher" });
  const speaks: string[] = [];
  watcher.subscribe(digestSubject("ops"), (m) => {
    const h = m.headers ?? {};
    const key = Object.keys(h).find((k) => k.toLowerCase() === SPEAKS_HEADER);
    if (key) speaks.push(h[key]!);
  });
  const a = await launchCollab({
    dataDir: dir.path,
    bus,
    nodeId: "a",
    limits: { anti_entropy_ms: 200, anti_entropy_holdoff_ms: 200 },
  });
  const client = await connectClient(
    a.server.url,
    "ops",
    await tokenFor(dir.path, "ops", "editor"),
  );
  let old: OlderNode | undefined;
  try {
    for (let i = 0; i < 3; i++) {
      client.sdoc.addAnnotation({ id: `n${i}`, t: i, channel: "X", text: "t", author: "a" });
    }
    await waitFor(() => a.server.room("ops")?.sdoc.annotationList().length === 3, 5000, "3 edits");
    // It joins after the edits went out: only anti-entropy can bring them.
    await a.server.room("ops")!.durable();
    await bus.flush();
    old = new OlderNode(await NatsBus.connect(nats.url, { name: "old" }), version);
    const asUpdate = async () =>
      metric(
        await getText(`http://127.0.0.1:${a.server.port}/metrics`),
        "troupe_collab_anti_entropy_repairs_as_update_total",
      );
    await fn({ old, asUpdate, speaks });
  } finally {
    client.destroy();
    await old?.close();
    await a.close();
    await bus.close();
    await watcher.close();
    await nats.cleanup();
    dir.remove();
  }
}

function holdsAll(old: OlderNode): boolean {
  return old.doc.getArray("annotations").length === 3;
}

if (haveNatsServer("collab anti-entropy across versions")) {
  test("a node that does not read repair messages is repaired with an update and drops nothing", async () => {
    await withOlderNode("v1", async ({ old, asUpdate, speaks }) => {
      await waitFor(() => holdsAll(old), 8000, "the older node to be repaired");
      assert.is(old.malformed, 0, "no message it cannot read");
      assert.ok(old.kinds.includes(0), "the repair came as an update");
      assert.ok((await asUpdate()) >= 1, "counted as a repair sent as an update");
      assert.ok(speaks.length > 0, "a's digests carry the speaks header");
      assert.equal(speaks[0]!.split(","), ["update", "awareness", "state", "repair"]);
    });
  });

  test("a node whose digests name it but carry no header reads repair messages, and gets them", async () => {
    await withOlderNode("v2", async ({ old, asUpdate }) => {
      await waitFor(() => holdsAll(old), 8000, "the older node to be repaired");
      assert.is(old.malformed, 0);
      assert.ok(old.kinds.includes(3), `a repair message: kinds ${old.kinds}`);
      assert.is(await asUpdate(), 0);
    });
  });
}

test.run();

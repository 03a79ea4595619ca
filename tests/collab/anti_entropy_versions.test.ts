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
  type LaunchedCollab,
  LEGACY_NODE,
  REPAIR_FOR_HEADER,
  repairOrder,
  SPEAKS_HEADER,
} from "../../collab/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import {
  type Client,
  connectClient,
  getText,
  metric,
  tokenFor,
  TRANSPORT_SCHEMA,
  waitFor,
} from "./_support.ts";
import { join } from "node:path";

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
 * digests of its document every `periodMs` (`v1` without a node name, `v2` with one, neither with a
 * header) and merges the peer messages its decoder knew (kinds 0-2 for `v1`, 0-3 for `v2`),
 * counting any other as malformed, as that version's decoder did.
 */
class OlderNode {
  readonly doc = new Y.Doc();
  readonly kinds: number[] = [];
  malformed = 0;
  #bus: NatsBus;
  #timer: ReturnType<typeof setInterval>;

  constructor(bus: NatsBus, version: "v1" | "v2", periodMs: number) {
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
    this.#timer = setInterval(() => bus.publish(digestSubject("ops"), digest()), periodMs);
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#bus.close();
  }
}

interface Env {
  old: OlderNode;
  asUpdate(): Promise<number>;
  /** The speaks headers of a's digests. */
  speaks: string[];
  /** The senders of updates that were repairs (with the repair-for header), in order. */
  repairUpdates: string[];
}

async function withOlderNode(
  version: "v1" | "v2",
  fn: (a: Env) => Promise<void>,
  nodes: 1 | 2 = 1,
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
  const repairUpdates: string[] = [];
  watcher.subscribe("troupe.collab.ops", (m) => {
    const key = Object.keys(m.headers ?? {}).find((k) => k.toLowerCase() === REPAIR_FOR_HEADER);
    if (key) repairUpdates.push(decoding.readVarString(decoding.createDecoder(m.data)));
  });
  const more: { node: LaunchedCollab; bus: NatsBus; client: Client }[] = [];
  // A node ranks among the repairers only the nodes it had a digest from within three periods: at
  // 200 ms (a 600 ms window) a stall of this process, where the current nodes run, can leave one
  // thinking the other gone, and both repair (as in anti_entropy_nodes.test.ts). 1000 ms gives 3 s.
  const limits = { anti_entropy_ms: 1000, anti_entropy_holdoff_ms: 400 };
  const a = await launchCollab({
    schema: TRANSPORT_SCHEMA,
    dataDir: dir.path,
    bus,
    nodeId: "a",
    limits,
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
    if (nodes === 2) {
      // Node b loads the session (catching up from a) when its client connects.
      const bBus = await NatsBus.connect(nats.url, { name: "b" });
      const b = await launchCollab({
        schema: TRANSPORT_SCHEMA,
        dataDir: join(dir.path, "b"),
        bus: bBus,
        nodeId: "b",
        limits,
      });
      const token = await tokenFor(join(dir.path, "b"), "ops", "editor");
      more.push({ node: b, bus: bBus, client: await connectClient(b.server.url, "ops", token) });
      await waitFor(() => b.server.room("ops")?.sdoc.annotationList().length === 3, 5000, "b");
      // Long enough for a and b to have heard each other's digests (periods up to 1.5 s).
      await new Promise((r) => setTimeout(r, 3000));
    }
    // It joins after the edits went out: only anti-entropy can bring them.
    await a.server.room("ops")!.durable();
    await bus.flush();
    // With two current nodes its digests come slower than a hold-off, so that the second node's
    // hold-off ends before a digest shows the first one's repair: only seeing that repair for
    // what it is keeps the second from sending another.
    const periodMs = nodes === 2 ? 1000 : 100;
    old = new OlderNode(await NatsBus.connect(nats.url, { name: "old" }), version, periodMs);
    const asUpdate = async () =>
      metric(
        await getText(`http://127.0.0.1:${a.server.port}/metrics`),
        "troupe_collab_anti_entropy_repairs_as_update_total",
      );
    await fn({ old, asUpdate, speaks, repairUpdates });
  } finally {
    client.destroy();
    for (const m of more) {
      m.client.destroy();
      await m.node.close();
      await m.bus.close();
    }
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
      // The repair can come before a's first digest (periods of 0.5-1.5 s from the room's
      // load): wait for one. A digest without the header never lands in speaks.
      await waitFor(() => speaks.length > 0, 5000, "a digest of a's carrying the speaks header");
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

  test("with an older node about, repairs go as updates and two current nodes still send it one", async () => {
    await withOlderNode("v1", async ({ old, repairUpdates }) => {
      await waitFor(() => holdsAll(old), 8000, "the older node to be repaired");
      // Past the second node's hold-off and a few more digests of the older node.
      await new Promise((r) => setTimeout(r, 1500));
      assert.is(old.malformed, 0);
      const first = repairOrder("ops", LEGACY_NODE, ["a", "b"])[0]!;
      assert.equal(repairUpdates, [first], "one repair, as an update, from the first in order");
    }, 2);
  });
}

test.run();

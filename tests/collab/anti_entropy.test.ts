import * as decoding from "lib0/decoding";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { NatsBus } from "../../actors/runtime/mod.ts";
import { launchCollab, type LaunchedCollab } from "../../collab/mod.ts";
import type { Bus, BusMessage } from "../../protocol/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { type Client, connectClient, getText, metric, tokenFor, waitFor } from "./_support.ts";

const test = suite("collab anti-entropy between nodes");
const run = haveNatsServer("collab anti-entropy between nodes");

/**
 * A real NATS connection that loses chosen messages on the way out: after `dropUpdates(n)`, the
 * next n document updates this node publishes to other nodes never reach the server.
 */
class LossyBus implements Bus {
  readonly inner: NatsBus;
  dropped = 0;
  #drop = 0;
  constructor(inner: NatsBus) {
    this.inner = inner;
  }
  dropUpdates(n: number): void {
    this.#drop = n;
  }
  publish(subject: string, data: Uint8Array): void {
    if (this.#drop > 0 && subject.startsWith("troupe.collab.") && peerKind(data) === 0) {
      this.#drop--;
      this.dropped++;
      return;
    }
    this.inner.publish(subject, data);
  }
  subscribe(pattern: string, handler: (msg: BusMessage) => void) {
    return this.inner.subscribe(pattern, handler);
  }
  request(subject: string, data: Uint8Array, options: { timeout: number }) {
    return this.inner.request(subject, data, options);
  }
  flush() {
    return this.inner.flush();
  }
  close() {
    return this.inner.close();
  }
}

/** The kind of a peer message (0 update, 1 awareness, 2 state): after the node's name. */
function peerKind(data: Uint8Array): number {
  const d = decoding.createDecoder(data);
  decoding.readVarString(d);
  return decoding.readVarUint(d);
}

interface Pair {
  a: LaunchedCollab;
  b: LaunchedCollab;
  lossy: LossyBus;
  ca: Client;
  cb: Client;
}

async function withPair(antiEntropyMs: number, fn: (p: Pair) => Promise<void>): Promise<void> {
  const nats = await startTestNats();
  const da = tempDir("troupe-collab-ae-a-"), db = tempDir("troupe-collab-ae-b-");
  const lossy = new LossyBus(await NatsBus.connect(nats.url, { name: "lossy-a" }));
  const limits = { anti_entropy_ms: antiEntropyMs };
  const a = await launchCollab({ dataDir: da.path, bus: lossy, nodeId: "a", limits });
  const b = await launchCollab({ dataDir: db.path, nats: nats.url, nodeId: "b", limits });
  const clients: Client[] = [];
  try {
    const ca = await connectClient(a.server.url, "ops", await tokenFor(da.path, "ops", "editor"));
    clients.push(ca);
    const cb = await connectClient(b.server.url, "ops", await tokenFor(db.path, "ops", "editor"));
    clients.push(cb);
    ca.sdoc.addAnnotation({ id: "first", t: 1, channel: "BTC", text: "both see it", author: "a" });
    await waitFor(() => cb.sdoc.annotationList().length === 1, 5000, "b's client sees a's edit");
    await fn({ a, b, lossy, ca, cb });
  } finally {
    for (const c of clients) c.destroy();
    await a.close();
    await b.close();
    await lossy.close();
    await nats.cleanup();
    da.remove();
    db.remove();
  }
}

const ids = (c: Client) => c.sdoc.annotationList().map((x) => x.id);

test("an update lost between two nodes, and the next one that depends on it, reach the other node's clients without any client's sync", async () => {
  await withPair(200, async ({ a, lossy, ca, cb }) => {
    lossy.dropUpdates(1);
    ca.sdoc.addAnnotation({ id: "lost", t: 2, channel: "BTC", text: "dropped", author: "a" });
    await waitFor(() => lossy.dropped === 1, 5000, "the update to be dropped");
    // This one crosses, but b cannot integrate it without the lost one before it.
    ca.sdoc.addAnnotation({ id: "next", t: 3, channel: "BTC", text: "after", author: "a" });
    await waitFor(() => ids(cb).length === 3, 5000, "b's client to get both edits");
    assert.equal(ids(cb), ids(ca));
    const m = await getText(`http://127.0.0.1:${a.server.port}/metrics`);
    assert.ok(metric(m, "troupe_collab_anti_entropy_repairs_total") >= 1, "a repaired b");
  });
});

test("a lost deletion reaches the other node (a state vector alone does not show it)", async () => {
  await withPair(200, async ({ lossy, ca, cb }) => {
    lossy.dropUpdates(1);
    ca.doc.getArray("annotations").delete(0, 1);
    await waitFor(() => lossy.dropped === 1, 5000, "the deletion to be dropped");
    await waitFor(() => ids(cb).length === 0, 5000, "b's client to see the deletion");
  });
});

test("without anti-entropy the lost update stays lost (so the tests above can fail)", async () => {
  await withPair(0, async ({ lossy, ca, cb }) => {
    lossy.dropUpdates(1);
    ca.sdoc.addAnnotation({ id: "lost", t: 2, channel: "BTC", text: "dropped", author: "a" });
    await waitFor(() => lossy.dropped === 1, 5000, "the update to be dropped");
    ca.sdoc.addAnnotation({ id: "next", t: 3, channel: "BTC", text: "after", author: "a" });
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(ids(cb), ["first"]);
  });
});

if (run) test.run();

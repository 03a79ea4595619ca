/**
 * Anti-entropy with more than two nodes: digests carry their node and come at jittered periods;
 * the nodes that could repair a stale node agree on one order, so one stale node among three is
 * repaired by one repair, not two; and when the first in that order cannot get its repair out,
 * the next one sends it after its hold-off.
 */
import * as decoding from "lib0/decoding";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import * as Y from "yjs";
import { InProcessBus, NatsBus } from "../../actors/runtime/mod.ts";
import {
  decodeDigest,
  digestOf,
  encodeDigest,
  launchCollab,
  type LaunchedCollab,
  repairOrder,
} from "../../collab/mod.ts";
import { AntiEntropy, SessionReplay } from "../../collab/mod.ts";
import type { Bus, BusMessage, BusSubscription, PublishOptions } from "../../protocol/mod.ts";
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
import { decodePeerMessage, encodePeerMessage } from "../../protocol/mod.ts";

const test = suite("collab anti-entropy with N nodes");

test("a digest names its node and round-trips; a malformed one is refused with the reason", () => {
  const doc = new Y.Doc();
  doc.getArray("a").push([1, 2, 3]);
  const d = digestOf(doc, "node-a");
  assert.equal(decodeDigest(encodeDigest(d)), d);
  const bytes = encodeDigest(d);
  const longer = new Uint8Array(bytes.length + 1);
  longer.set(bytes);
  assert.throws(() => decodeDigest(longer), /digest has 1 trailing bytes/);
  const short = encodeDigest({ ...d, deleteSetHash: new Uint8Array(5) });
  assert.throws(() => decodeDigest(short), /delete-set hash must be 32 bytes, got 5/);
});

test("a repair names its target, round-trips, and a recording's replay merges it like an update", () => {
  const doc = new Y.Doc();
  doc.getArray<string>("notes").push(["kept"]);
  const payload = Y.encodeStateAsUpdate(doc);
  const bytes = encodePeerMessage({ node: "a", kind: "repair", target: "c", payload });
  assert.equal(decodePeerMessage(bytes), { node: "a", kind: "repair", target: "c", payload });
  assert.throws(
    () => decodePeerMessage(bytes.subarray(0, 4)),
    /Cannot decode peer message of 4 bytes: field "target" cannot be read/,
  );
  const replay = new SessionReplay();
  replay.add("troupe.collab.ops", bytes);
  const rebuilt = new Y.Doc();
  Y.applyUpdate(rebuilt, replay.results(false)[0]!.state);
  assert.equal(rebuilt.getArray("notes").toArray(), ["kept"]);
});

test("repairOrder() is the same whatever order the nodes come in, and differs between stale nodes", () => {
  const nodes = ["n1", "n2", "n3", "n4", "n5"];
  const firsts = new Set<string>();
  for (let t = 0; t < 40; t++) {
    const order = repairOrder("ops", `stale${t}`, nodes);
    assert.equal(repairOrder("ops", `stale${t}`, [...nodes].reverse()), order);
    assert.equal([...order].sort(), nodes);
    firsts.add(order[0]!);
  }
  assert.ok(firsts.size >= 3, `the first answerer varies with the stale node: ${[...firsts]}`);
});

test("digests come at periods drawn from half to one and a half of anti_entropy_ms", async () => {
  const bus = new InProcessBus();
  let digests = 0;
  bus.subscribe("troupe.sys.collab.s.digest", () => digests++);
  // Draws alternate low and high: periods of 0.5 and 1.45 times 100 ms.
  let draw = 0;
  const ae = new AntiEntropy({
    bus,
    nodeId: "n",
    periodMs: 100,
    holdoffMs: 50,
    random: () => (draw++ % 2 === 0 ? 0 : 0.95),
  });
  // Each period is timed where its timer fires (the tick), not where the bus hands the digest on:
  // a delivery delayed by a loaded machine made a long period look short (177, 34, 51, 146 ms).
  const times: number[] = [];
  const tick = ae.tick.bind(ae);
  ae.tick = () => {
    times.push(performance.now());
    tick();
  };
  const room = { session: "s", doc: new Y.Doc() } as unknown as Parameters<
    AntiEntropy["attach"]
  >[0];
  const sub = ae.attach(room);
  const t0 = performance.now();
  ae.start();
  await waitFor(() => times.length >= 4 && digests >= 4, 10_000, "four digests");
  ae.stop();
  sub.unsubscribe();
  const gaps = [
    times[0]! - t0,
    times[1]! - times[0]!,
    times[2]! - times[1]!,
    times[3]! - times[2]!,
  ];
  // Timers never fire early: the long periods are at least 145 ms, which a fixed 100 ms is not.
  assert.ok(gaps[0]! >= 49 && gaps[2]! >= 49, `short periods ${gaps.map((g) => g.toFixed(0))}`);
  assert.ok(gaps[1]! >= 144 && gaps[3]! >= 144, `long periods ${gaps.map((g) => g.toFixed(0))}`);
});

/** A real NATS connection whose chosen messages are lost on the way out, or on the way in. */
class FilterBus implements Bus {
  readonly inner: NatsBus;
  /** Drops what this node publishes while it returns true. */
  dropOut: (subject: string, data: Uint8Array) => boolean = () => false;
  /** Drops what this node receives while it returns true. */
  dropIn: (subject: string, data: Uint8Array) => boolean = () => false;
  constructor(inner: NatsBus) {
    this.inner = inner;
  }
  publish(subject: string, data: Uint8Array, options?: PublishOptions): void {
    if (!this.dropOut(subject, data)) this.inner.publish(subject, data, options);
  }
  subscribe(pattern: string, handler: (msg: BusMessage) => void): BusSubscription {
    return this.inner.subscribe(pattern, (m) => {
      if (!this.dropIn(m.subject, m.data)) handler(m);
    });
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

/** A peer message's node and kind (0 update, 1 awareness, 2 state, 3 repair) and a repair's target. */
function peerHead(data: Uint8Array): { node: string; kind: number; target?: string } {
  const d = decoding.createDecoder(data);
  const node = decoding.readVarString(d);
  const kind = decoding.readVarUint(d);
  return kind === 3 ? { node, kind, target: decoding.readVarString(d) } : { node, kind };
}

interface Trio {
  nodes: Record<"a" | "b" | "c", LaunchedCollab>;
  buses: Record<"a" | "b" | "c", FilterBus>;
  clients: Record<"a" | "b" | "c", Client>;
  /** Every repair seen on the wire: who sent it, for whom. */
  repairs: { node: string; target: string }[];
}

// A node ranks among a stale node's repairers the nodes it had a digest from within three periods:
// at 300 ms (a 900 ms window) a stall of this process, where all three nodes run, left a node
// thinking the first in order gone, so it repaired at once as well (the first test failed with
// repeated 700 ms stalls). At 1000 ms a stall must last about 2.5 s to do that.
const LIMITS = { anti_entropy_ms: 1000, anti_entropy_holdoff_ms: 1000 };

async function withTrio(fn: (t: Trio) => Promise<void>): Promise<void> {
  const nats = await startTestNats();
  const names = ["a", "b", "c"] as const;
  const dirs = names.map(() => tempDir("troupe-collab-ae3-"));
  const watcher = await NatsBus.connect(nats.url, { name: "watcher" });
  const repairs: Trio["repairs"] = [];
  watcher.subscribe("troupe.collab.ops", (m) => {
    const h = peerHead(m.data);
    if (h.kind === 3) repairs.push({ node: h.node, target: h.target! });
  });
  const buses = {} as Trio["buses"], nodes = {} as Trio["nodes"], clients = {} as Trio["clients"];
  try {
    for (const [i, n] of names.entries()) {
      buses[n] = new FilterBus(await NatsBus.connect(nats.url, { name: n }));
      nodes[n] = await launchCollab({
        schema: TRANSPORT_SCHEMA,
        dataDir: dirs[i]!.path,
        bus: buses[n],
        nodeId: n,
        limits: LIMITS,
      });
      const token = await tokenFor(dirs[i]!.path, "ops", "editor");
      clients[n] = await connectClient(nodes[n].server.url, "ops", token);
    }
    clients.a.sdoc.addAnnotation({ id: "first", t: 1, channel: "X", text: "all", author: "a" });
    for (const n of names) {
      await waitFor(() => ids(clients[n]).length === 1, 5000, `${n}'s client sees the first edit`);
    }
    // Long enough for every node to have heard every other's digest (periods up to 1.5 s).
    await new Promise((r) => setTimeout(r, 3000));
    await watcher.flush();
    repairs.length = 0;
    await fn({ nodes, buses, clients, repairs });
  } finally {
    for (const n of names) clients[n]?.destroy();
    for (const n of names) await nodes[n]?.close();
    for (const n of names) await buses[n]?.close();
    await watcher.close();
    await nats.cleanup();
    for (const d of dirs) d.remove();
  }
}

const ids = (c: Client) => c.sdoc.annotationList().map((x) => x.id);

async function repairsMetric(c: LaunchedCollab): Promise<number> {
  const text = await getText(`http://127.0.0.1:${c.server.port}/metrics`);
  return metric(text, "troupe_collab_anti_entropy_repairs_total");
}

/**
 * Makes node c miss the next document update the other nodes publish (a new annotation `id`);
 * resolves once it has, and b's client holds `count` annotations.
 */
async function cMissesNextUpdate(t: Trio, id = "lost", count = 2): Promise<void> {
  let missed = 0;
  t.buses.c.dropIn = (subject, data) => {
    if (missed > 0 || !subject.startsWith("troupe.collab.") || peerHead(data).kind !== 0) {
      return false;
    }
    missed++;
    return true;
  };
  t.clients.a.sdoc.addAnnotation({ id, t: count, channel: "X", text: "c", author: "a" });
  await waitFor(() => missed === 1, 5000, "c to miss the update");
  await waitFor(() => ids(t.clients.b).length === count, 5000, "b's client has the update");
}

if (haveNatsServer("collab anti-entropy with N nodes")) {
  test("three nodes: the stale one is repaired by one repair, not one from each node holding the update", async () => {
    await withTrio(async (t) => {
      await cMissesNextUpdate(t);
      await waitFor(() => ids(t.clients.c).length === 2, 15_000, "c's client to be repaired");
      assert.equal(ids(t.clients.c), ids(t.clients.a));
      // Past the second node's hold-off and a few more digests of c: still one repair.
      await new Promise((r) => setTimeout(r, 2 * LIMITS.anti_entropy_holdoff_ms + 500));
      // One repair, from the first in order on a quiet machine. Seen once in a full run at a load
      // of 10: the one repair came from the second in order (the first's digest handling held
      // back past the second's hold-off, in this one process where all three nodes run). What
      // is checked: not one from each.
      const [first, second] = repairOrder("ops", "c", ["a", "b"]);
      assert.is(t.repairs.length, 1, `one repair: ${JSON.stringify(t.repairs)}`);
      assert.is(t.repairs[0]!.target, "c");
      assert.ok(
        [first, second].includes(t.repairs[0]!.node as "a" | "b"),
        `from a or b: ${t.repairs[0]!.node}`,
      );
      const sent = (await repairsMetric(t.nodes.a)) + (await repairsMetric(t.nodes.b));
      assert.is(sent, 1, "a and b sent one repair between them");
    });
  });

  test("three nodes: when the first node's repair is lost, the second repairs after its hold-off", async () => {
    await withTrio(async (t) => {
      const [first, second] = repairOrder("ops", "c", ["a", "b"]) as ["a" | "b", "a" | "b"];
      let lost = 0;
      t.buses[first].dropOut = (subject, data) => {
        const drop = subject.startsWith("troupe.collab.") && peerHead(data).kind === 3;
        if (drop) lost++;
        return drop;
      };
      // Under load the second node's hold-off can run out before the first sends its repair
      // (all three nodes share one process): then nothing was lost, and c misses another update.
      for (let count = 2; lost === 0; count++) {
        assert.ok(count <= 4, "the first node's repair was lost in one of three tries");
        await cMissesNextUpdate(t, `lost-${count}`, count);
        await waitFor(() => ids(t.clients.c).length === count, 20_000, "c's client repaired");
      }
      // The watcher has its own connection: under load its copy of the repair can arrive after c
      // has applied the repair and its client has the update.
      await waitFor(() => t.repairs.length >= 1, 5000, "the watcher to see a repair");
      assert.equal(t.repairs.slice(0, 1), [{ node: second, target: "c" }]);
    });
  });
}

test.run();

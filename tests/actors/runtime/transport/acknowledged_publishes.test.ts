/**
 * Publishes a stream must keep (acknowledged_publishes.ts, NatsBus.acknowledge): a leased host's
 * findings. On a real 3-node nats-server cluster, the node a publisher is connected to is killed
 * while it publishes findings at 100 a second: the findings stream holds every one, once. On one
 * server: a subject no stream captures is retried, not lost, and the queue's bound refuses and
 * counts; a publish without an id, or off the pattern, is a plain one.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { connect } from "@nats-io/transport-node";
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import {
  FINDINGS_STREAM,
  NatsBus,
  openFindingsStream,
} from "../../../../actors/runtime/transport/mod.ts";
import { FINDINGS_PATTERN, findingSubject } from "../../../../protocol/mod.ts";
import { haveNatsServer, startTestNats, startTestNatsCluster } from "../../../_support/nats.ts";

const test = suite("acknowledged_publishes");
const it = haveNatsServer("acknowledged_publishes") ? test : test.skip;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const text = new TextEncoder();

it("a finding published as its server is killed is in the findings stream once", async () => {
  const cluster = await startTestNatsCluster(3);
  const logs: string[] = [];
  const bus = await NatsBus.connect(cluster.nodes.map((n) => n.url).join(","));
  try {
    await openFindingsStream(bus.nc, { replicas: 3 });
    bus.acknowledge(FINDINGS_PATTERN, { log: (m) => logs.push(m) });
    const subject = findingSubject("probe", "c");
    let n = 0;
    const publish = () => {
      const id = `f-${n++}`;
      bus.publish(subject, text.encode(id), { headers: { "Nats-Msg-Id": id } });
    };
    const ticker = setInterval(publish, 10);
    await sleep(1000);
    // The node this bus writes to dies with what it had not yet passed on.
    const port = Number(new URL(`nats://${bus.nc.getServer()}`).port);
    const node = cluster.nodes.findIndex((s) => s.port === port);
    assert.ok(node >= 0, `the bus' server ${bus.nc.getServer()} is a node of the cluster`);
    await cluster.kill(node);
    await sleep(3000);
    clearInterval(ticker);
    const published = n;
    const kept = cluster.nodes.find((_, i) => i !== node)!;
    const nc = await connect({ servers: kept.url });
    try {
      // Asked again until the cluster answers: its meta leader may be the node killed.
      let jsm: JetStreamManager | undefined;
      let held = -1;
      const until = Date.now() + 30_000;
      while (Date.now() < until) {
        jsm ??= await jetstreamManager(nc, { timeout: 2000 }).catch(() => undefined);
        held = jsm
          ? await jsm.streams.info(FINDINGS_STREAM).then((i) => i.state.messages, () => -1)
          : -1;
        if (held >= published && bus.acknowledged!.waiting === 0) break;
        await sleep(200);
      }
      assert.is(held, published, `findings the stream holds of ${published} published`);
      const c = bus.acknowledged!;
      assert.is(c.acked, published, "acknowledged");
      assert.is(c.refused, 0);
      assert.is(c.waiting, 0);
      assert.equal(logs, []);
    } finally {
      await nc.close();
    }
  } finally {
    await bus.close().catch(() => {});
    await cluster.cleanup();
  }
});

it("a subject no stream captures is sent again, not lost; past the bound, refused and counted", async () => {
  const nats = await startTestNats();
  const logs: string[] = [];
  const bus = await NatsBus.connect(nats.url);
  try {
    bus.acknowledge("troupe.finding.>", { queuedMax: 4, log: (m) => logs.push(m) });
    for (let i = 0; i < 6; i++) {
      bus.publish(`troupe.finding.k.c${i}`, text.encode("x"), {
        headers: { "Nats-Msg-Id": `${i}` },
      });
    }
    await sleep(700);
    const c = bus.acknowledged!;
    assert.is(c.acked, 0);
    assert.is(c.refused, 2);
    assert.is(c.waiting, 4);
    assert.ok(c.retries >= 4, `retries ${c.retries}`);
    assert.is(logs.length, 1, logs.join("\n"));
    assert.match(
      logs[0]!,
      /not published on "troupe\.finding\.k\.c4" \(4\): 4 messages already wait/,
    );
    // Now the stream is there: what waited is acknowledged, once each.
    const jsm = await jetstreamManager(bus.nc);
    await jsm.streams.add({ name: "T", subjects: ["troupe.finding.>"] });
    const until = Date.now() + 10_000;
    while (bus.acknowledged!.waiting > 0 && Date.now() < until) await sleep(50);
    assert.is(bus.acknowledged!.acked, 4);
    assert.is((await jsm.streams.info("T")).state.messages, 4);
  } finally {
    await bus.close().catch(() => {});
    await nats.cleanup();
  }
});

it("closing waits a bounded time and says what the stream never acknowledged", async () => {
  const nats = await startTestNats();
  const logs: string[] = [];
  const bus = await NatsBus.connect(nats.url);
  try {
    bus.acknowledge("troupe.finding.>", { log: (m) => logs.push(m) });
    bus.publish("troupe.finding.k.c", text.encode("x"), { headers: { "Nats-Msg-Id": "a" } });
    const t = Date.now();
    await bus.close();
    const ms = Date.now() - t;
    assert.ok(ms >= 4000 && ms < 9000, `closed after ${ms} ms`);
    assert.equal(logs, ["1 messages not acknowledged by their stream within 5000 ms of closing"]);
  } finally {
    await nats.cleanup();
  }
});

it("a publish without an id or off the pattern is a plain one; the pattern is checked", async () => {
  const nats = await startTestNats();
  const bus = await NatsBus.connect(nats.url);
  try {
    assert.throws(() => bus.acknowledge("troupe.*.x.>"), /takes a pattern "<prefix>\.>"/);
    assert.throws(() => bus.acknowledge("troupe.finding"), /takes a pattern/);
    bus.acknowledge("troupe.finding.>");
    assert.throws(() => bus.acknowledge("troupe.finding.>"), /set already/);
    const got: string[] = [];
    bus.subscribe("troupe.>", (m) => got.push(m.subject));
    await bus.flush();
    bus.publish("troupe.finding.k.c", text.encode("x"));
    bus.publish("troupe.out.k.c", text.encode("x"), { headers: { "Nats-Msg-Id": "b" } });
    await bus.flush();
    await sleep(100);
    assert.equal(got.sort(), ["troupe.finding.k.c", "troupe.out.k.c"]);
    assert.is(bus.acknowledged!.acked + bus.acknowledged!.waiting, 0);
  } finally {
    await bus.close().catch(() => {});
    await nats.cleanup();
  }
});

test.run();

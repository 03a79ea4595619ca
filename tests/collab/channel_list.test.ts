/**
 * `GET /channels` on a collab server over a real nats-server: every channel a receiver recorded
 * (the `troupe_channel_labels` bucket), with its labels, for the dashboard to group and filter
 * its cards by; recorded after the first answer too; refused without a token, and 503 without a
 * bus.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { openChannelLabels } from "../../actors/ingest/mod.ts";
import { NatsBus } from "../../actors/runtime/mod.ts";
import { launchCollab } from "../../collab/mod.ts";
import { decodeChannelLabelsList } from "../../protocol/prometheus/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { tokenFor } from "./_support.ts";

const NAME = "collab channel list";
const test = suite(NAME);

const node = (instance: string, metric: string) => [
  { name: "__name__", value: metric },
  { name: "instance", value: instance },
  { name: "job", value: "node" },
];

test("GET /channels lists each recorded channel with its labels, later ones too", async () => {
  const nats = await startTestNats();
  const dir = tempDir("troupe-channel-list-");
  const bus = await NatsBus.connect(nats.url, { name: "channel-list-writer" });
  const collab = await launchCollab({ dataDir: dir.path, nats: nats.url, bridge: false });
  try {
    const book = await openChannelLabels(bus, { read: false });
    await book.put("a_9100-node-node_load1", node("a:9100", "node_load1"));
    await book.put("b_9100-node-node_load1", node("b:9100", "node_load1"));
    const token = await tokenFor(dir.path, "ops", "viewer");
    const url = `http://127.0.0.1:${collab.server.port}/channels`;
    const read = async () => {
      const res = await fetch(`${url}?token=${token}`);
      assert.is(res.status, 200, await res.clone().text());
      const list = decodeChannelLabelsList(new Uint8Array(await res.arrayBuffer()));
      return new Map(list.map((c) => [c.channel, c.labels]));
    };
    const first = await read();
    assert.equal([...first.keys()].sort(), ["a_9100-node-node_load1", "b_9100-node-node_load1"]);
    assert.equal(first.get("a_9100-node-node_load1"), node("a:9100", "node_load1"));
    await book.put("c_9100-node-node_load1", node("c:9100", "node_load1"));
    let later = first;
    for (let i = 0; i < 50 && !later.has("c_9100-node-node_load1"); i++) {
      await new Promise((r) => setTimeout(r, 100));
      later = await read();
    }
    assert.equal(later.get("c_9100-node-node_load1"), node("c:9100", "node_load1"));
    const refused = await fetch(url);
    assert.is(refused.status, 401);
    assert.match(await refused.text(), /token/i);
    const posted = await fetch(`${url}?token=${token}`, { method: "POST" });
    assert.is(posted.status, 405);
    await posted.body?.cancel();
    await book.close();
  } finally {
    await collab.close();
    await bus.close();
    await nats.cleanup();
    dir.remove();
  }
});

test("GET /channels answers 503 on a collab server without a bus", async () => {
  const dir = tempDir("troupe-channel-list-");
  const collab = await launchCollab({ dataDir: dir.path });
  try {
    const token = await tokenFor(dir.path, "ops", "viewer");
    const res = await fetch(`http://127.0.0.1:${collab.server.port}/channels?token=${token}`);
    assert.is(res.status, 503);
    assert.match(await res.text(), /without a bus/);
  } finally {
    await collab.close();
    dir.remove();
  }
});

if (haveNatsServer(NAME)) test.run();

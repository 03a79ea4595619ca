import { chmodSync, copyFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { launchCollab, SECRET_FILE } from "../../collab/mod.ts";
import { startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { connectClient, tokenFor, waitFor } from "./_support.ts";

const test = suite("collab journal in JetStream");
const run = haveNatsServer("collab journal in JetStream");

function ids(list: { id: string }[]): Set<string> {
  return new Set(list.map((a) => a.id));
}

async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    assert.match((err as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a rejection matching ${pattern}`);
}

/** A second data directory holding only the first one's token secret. */
function secretOnly(from: string): { path: string; remove(): void } {
  const dir = tempDir("troupe-collab-js-b-");
  copyFileSync(join(from, SECRET_FILE), join(dir.path, SECRET_FILE));
  chmodSync(join(dir.path, SECRET_FILE), 0o600);
  return dir;
}

test("kill -9 with clients editing: the node restarted on another data directory, same node id, holds every acknowledged edit from JetStream", async () => {
  const nats = await startTestNats();
  const a = tempDir("troupe-collab-js-a-");
  let b: { path: string; remove(): void } | undefined;
  const args = (dir: string, port: string) => [
    "collab",
    "--port",
    port,
    "--data-dir",
    dir,
    "--nats",
    nats.url,
    "--node-id",
    "n1",
    "--journal",
    "jetstream",
  ];
  let server = startTroupe(args(a.path, "0"));
  try {
    await server.waitFor("journal in JetStream");
    const port = Number(/127\.0\.0\.1:(\d+)\/collab/.exec(server.output())![1]);
    const url = `ws://127.0.0.1:${port}/collab`;
    const token = await tokenFor(a.path, "ops", "editor");
    const writer = await connectClient(url, "ops", token);
    const observer = await connectClient(url, "ops", token);
    let n = 0;
    const editing = setInterval(() => {
      writer.sdoc.addAnnotation({ id: `w${n}`, t: n, channel: "BTC", text: `e${n}`, author: "w" });
      n++;
    }, 3);
    await waitFor(() => observer.sdoc.annotationList().length >= 100, 20_000, "100 relayed edits");
    server.signal("SIGKILL");
    await server.exited;
    const acknowledged = ids(observer.sdoc.annotationList());
    clearInterval(editing);
    writer.provider.disconnect();
    observer.provider.disconnect();
    assert.ok(!existsSync(join(a.path, "collab", "journal")), "nothing was journaled on disk");

    b = secretOnly(a.path);
    server = startTroupe(args(b.path, String(port)));
    await server.waitFor("journal in JetStream");
    const checker = await connectClient(url, "ops", token);
    const held = ids(checker.sdoc.annotationList());
    const lost = [...acknowledged].filter((id) => !held.has(id));
    assert.equal(lost, [], `acknowledged edits lost: ${lost.slice(0, 10).join(", ")}`);
    writer.provider.connect();
    await waitFor(
      () => checker.sdoc.annotationList().length === n,
      10_000,
      `all ${n} edits on the restarted node`,
    );
    writer.destroy();
    observer.destroy();
    checker.destroy();
  } finally {
    server.signal("SIGTERM");
    await server.exited;
    a.remove();
    b?.remove();
    await nats.cleanup();
  }
});

test("compaction saves the document to the KV bucket; a node reopened elsewhere loads snapshot and tail", async () => {
  const nats = await startTestNats();
  const a = tempDir("troupe-collab-js-a-");
  const b = tempDir("troupe-collab-js-b-");
  const open = (dataDir: string) =>
    launchCollab({
      dataDir,
      nats: nats.url,
      nodeId: "n2",
      journal: "jetstream",
      bridge: false,
      limits: { compact_every_updates: 20 },
    });
  try {
    let c = await open(a.path);
    const token = await tokenFor(a.path, "ops", "editor");
    const client = await connectClient(c.server.url, "ops", token);
    for (let i = 0; i < 50; i++) {
      client.sdoc.addAnnotation({ id: `k${i}`, t: i, channel: "X", text: "t", author: "a" });
      await new Promise((r) => setTimeout(r, 2));
    }
    await waitFor(
      () => (c.server.room("ops")?.sdoc.annotationList().length ?? 0) === 50,
      10_000,
      "the server holds 50 edits",
    );
    await c.server.room("ops")!.durable();
    const compactions = await c.server.metrics.compactions.get();
    assert.ok((compactions.values[0]?.value ?? 0) >= 1, "compacted at least once");
    const snap = await c.store.snapshots.load("collab/n2/ops");
    assert.ok(snap && snap.pos > 0, "a snapshot in the KV bucket");
    client.destroy();
    await c.close();
    copyFileSync(join(a.path, SECRET_FILE), join(b.path, SECRET_FILE));
    chmodSync(join(b.path, SECRET_FILE), 0o600);
    c = await open(b.path);
    try {
      const again = await connectClient(c.server.url, "ops", token);
      assert.is(again.sdoc.annotationList().length, 50);
      again.destroy();
    } finally {
      await c.close();
    }
  } finally {
    a.remove();
    b.remove();
    await nats.cleanup();
  }
});

test("the JetStream journal needs a NATS connection and a node id", async () => {
  const dir = tempDir("troupe-collab-js-");
  try {
    await rejects(launchCollab({ dataDir: dir.path, journal: "jetstream" }), /needs a NATS/);
  } finally {
    dir.remove();
  }
  const nats = await startTestNats();
  const d2 = tempDir("troupe-collab-js-");
  try {
    await rejects(
      launchCollab({ dataDir: d2.path, nats: nats.url, journal: "jetstream" }),
      /needs a "nodeId"/,
    );
  } finally {
    d2.remove();
    await nats.cleanup();
  }
});

if (run) test.run();

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createServer } from "node:net";
import { connect } from "@nats-io/transport-node";
import { ReceiverThread } from "../../../actors/ingest/mod.ts";
import { decodeFeedBatch, feedBatchSubject } from "../../../protocol/mod.ts";
import { encodeWriteRequest, snappyCompress } from "../../../protocol/prometheus/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../../_support/nats.ts";

const test = suite("receiver thread");

const T0 = 1_700_000_000_000;

if (haveNatsServer("receiver thread")) {
  test("ReceiverThread answers a write while its starting thread is blocked, once journaled", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const nc = await connect({ servers: nats.url });
    let receiver: ReceiverThread | undefined;
    try {
      const batches: string[][] = [];
      nc.subscribe(feedBatchSubject("prom"), {
        callback: (_e, m) => void batches.push(decodeFeedBatch(m.data).batch.channels),
      });
      await nc.flush();
      receiver = await ReceiverThread.start({ port: 0, feed: "prom" }, {
        nats: nats.url,
        name: "test-receiver",
      });
      const body = join(dir.path, "body");
      writeFileSync(
        body,
        snappyCompress(encodeWriteRequest({
          timeseries: ["a", "b", "c"].map((instance) => ({
            labels: [
              { name: "__name__", value: "node_load1" },
              { name: "instance", value: instance },
              { name: "job", value: "node" },
            ],
            samples: [{ value: 0.5, timestamp: T0 }],
          })),
        })),
      );
      // spawnSync blocks this thread's event loop until curl ends: only a receiver that runs on a
      // thread of its own (with its own NATS connection) answers meanwhile.
      const curl = spawnSync("curl", [
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--max-time",
        "10",
        "--data-binary",
        `@${body}`,
        `http://127.0.0.1:${receiver.port}/api/v1/write`,
      ], { encoding: "utf8" });
      assert.is(curl.stdout, "204", `curl: ${curl.stdout} ${curl.stderr}`);
      for (const t = Date.now(); batches.length === 0 && Date.now() - t < 5000;) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(batches, [["a-node-node_load1", "b-node-node_load1", "c-node-node_load1"]]);
      const stopped = await receiver.stop();
      receiver = undefined;
      assert.is(stopped.journaled, 3);
    } finally {
      await receiver?.stop();
      await nc.close();
      await nats.cleanup();
      dir.remove();
    }
  });

  test("ReceiverThread.start rejects naming the port another process holds", async () => {
    const nats = await startTestNats();
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    const port = (taken.address() as { port: number }).port;
    try {
      let err: Error | undefined;
      await ReceiverThread.start({ port }, { nats: nats.url, name: "test-receiver" }).then(
        (r) => r.stop(),
        (e: Error) => (err = e),
      );
      assert.ok(err, "started on a port in use");
      assert.match(err!.message, `Cannot receive metrics on 127.0.0.1:${port}`);
      assert.match(err!.message, "in use");
    } finally {
      await new Promise((r) => taken.close(r));
      await nats.cleanup();
    }
  });
}

test("ReceiverThread.start rejects naming the NATS URL it cannot reach", async () => {
  // A port that was free a moment ago: nothing listens there.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  const url = `nats://127.0.0.1:${(probe.address() as { port: number }).port}`;
  await new Promise((r) => probe.close(r));
  let err: Error | undefined;
  await ReceiverThread.start({ port: 0 }, { nats: url, name: "test-receiver" }).then(
    (r) => r.stop(),
    (e: Error) => (err = e),
  );
  assert.ok(err, `started with NATS at ${url} unreachable`);
  assert.match(err!.message, `Cannot connect to NATS at ${url}: `);
  assert.match(err!.message, "ECONNREFUSED");
});

test("ReceiverThread.start refuses a bad remote_write block before starting a thread", async () => {
  let err: Error | undefined;
  await ReceiverThread.start({ port: 0, channels_max: -1 }, {
    nats: "nats://127.0.0.1:1",
    name: "test-receiver",
  }).then((r) => r.stop(), (e: Error) => (err = e));
  assert.ok(err, "started with channels_max -1");
  assert.match(err!.message, "channels_max");
});

test.run();

/**
 * Waiting out a JetStream that does not answer (jetstream_retry.ts), against a real nats-server:
 * one started without JetStream answers every JetStream request with "no responders", as a
 * cluster does while it elects a leader; started again on the same port with JetStream, it
 * answers. Opens wait for it within their budget and fail after it with an error naming what and
 * how long; a journal append that failed so is settled before the next append instead of
 * refusing every append after it.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { JetStreamJournal } from "../../../../actors/runtime/journal/jetstream/jetstream_journal.ts";
import {
  electionError,
  JetStreamUnavailableError,
  retryJetStream,
} from "../../../../actors/runtime/transport/jetstream_retry.ts";
import { LeaseBucket } from "../../../../actors/runtime/cluster/lease_bucket.ts";
import { KvSnapshotStore } from "../../../../actors/runtime/snapshots/kv/kv_snapshot_store.ts";
import { NatsServer } from "../../../../actors/runtime/transport/nats_server.ts";
import { haveNatsServer } from "../../../_support/nats.ts";

const test = suite("jetstream_retry");
const it = haveNatsServer("jetstream_retry") ? test : test.skip;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A nats-server without JetStream, to be restarted with it on the same port. */
async function withServer(
  body: (parts: {
    nc: NatsConnection;
    server: () => NatsServer;
    jetStreamOn(): Promise<void>;
    down(): Promise<void>;
  }) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "troupe-retry-"));
  let server = await NatsServer.start();
  const port = server.port;
  const nc = await connect({
    servers: server.url,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 50,
  });
  try {
    await body({
      nc,
      server: () => server,
      async down() {
        await server.stop();
      },
      async jetStreamOn() {
        await server.stop();
        server = await NatsServer.start({ port, storeDir: join(dir, "js") });
        while (nc.isClosed() === false && !(await nc.flush().then(() => true, () => false))) {
          // flush waits for the reconnect
        }
      },
    });
  } finally {
    await nc.close().catch(() => {});
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

test("electionError() tells a refusal (nothing stored) from a timeout (fate unknown)", () => {
  assert.is(electionError(new Error("jetstream is not enabled")), "refused");
  assert.is(electionError(new Error("503 no responders")), "refused");
  assert.is(electionError(Object.assign(new Error("cluster"), { code: 10008 })), "refused");
  const timeout = new Error("timeout");
  timeout.name = "TimeoutError";
  assert.is(electionError(timeout), "timeout");
  assert.is(electionError(new Error("wrong last sequence: 4")), undefined);
  assert.is(
    electionError(new JetStreamUnavailableError("x", { attempts: 2, cause: 1 })),
    undefined,
  );
});

test("retryJetStream() repeats a timeout only for a repeatable call", async () => {
  const timeout = () => Object.assign(new Error("timeout"), { name: "TimeoutError" });
  let calls = 0;
  const once = retryJetStream("write once", () => {
    calls++;
    return Promise.reject(timeout());
  }, { budgetMs: 1000 });
  await once.then(() => assert.unreachable(), (err: Error) => assert.is(err.name, "TimeoutError"));
  assert.is(calls, 1, "a write that timed out is not sent again");
  calls = 0;
  const got = await retryJetStream("read", () => {
    calls++;
    return calls < 3 ? Promise.reject(timeout()) : Promise.resolve("ok");
  }, { budgetMs: 5000, repeatable: true });
  assert.is(got, "ok");
  assert.is(calls, 3);
});

it("JetStreamJournal.open() waits while no server answers JetStream, then opens", async () => {
  await withServer(async ({ nc, jetStreamOn }) => {
    // What a cluster electing a leader answers: the request has no responders.
    const refused = await jetstreamManager(nc).then(() => undefined, (err: Error) => err);
    assert.match(String(refused?.message), /jetstream is not enabled/);
    const opening = JetStreamJournal.open(nc, { stream: "RETRY_J", subjectPrefix: "retry.j" });
    let settled: unknown = "pending";
    opening.then((j) => (settled = j), (err) => (settled = err));
    await sleep(400); // a few refused attempts
    assert.is(settled, "pending", `open gave up at once: ${String(settled)}`);
    await jetStreamOn();
    const journal = await opening;
    assert.is(await journal.append("stats/A", new Uint8Array([1])), 1);
    await journal.close();
  });
});

it("LeaseBucket.open() and KvSnapshotStore.open() give up after their budget, naming what and how long", async () => {
  await withServer(async ({ nc }) => {
    const lease = await LeaseBucket.open(nc, { ttlMs: 3000, electionBudgetMs: 600 }).then(
      () => undefined,
      (err: Error) => err,
    );
    if (!lease) return assert.unreachable("opened without JetStream");
    assert.instance(lease, JetStreamUnavailableError);
    assert.match(
      lease.message,
      /^Cannot open the lease bucket troupe_leases: JetStream did not answer in \d+ ms \(\d+ attempts, a budget of 600 ms/,
    );
    const store = await KvSnapshotStore.open(nc, { electionBudgetMs: 600 }).then(
      () => undefined,
      (err: Error) => err,
    );
    assert.match(
      String(store?.message),
      /^Cannot open the snapshot bucket troupe_snapshots: JetStream/,
    );
  });
});

it("an append that failed while the server was away is settled before the next one, not refused for good", async () => {
  await withServer(async ({ nc, jetStreamOn, down }) => {
    await jetStreamOn();
    const journal = await JetStreamJournal.open(nc, {
      stream: "RETRY_B",
      subjectPrefix: "retry.b",
      publishTimeoutMs: 300,
      publishRetries: 0,
      electionBudgetMs: 600,
    });
    const record = new Uint8Array([7, 7, 7]);
    assert.is(await journal.append("stats/A", new Uint8Array([1])), 1);
    await down();
    const failed = await journal.append("stats/A", record).then(() => undefined, (e: Error) => e);
    assert.ok(failed, "an append with the server away failed");
    await jetStreamOn(); // the same store: the first record is there
    // The host retries the input that failed: the same bytes.
    assert.is(await journal.append("stats/A", record), 2);
    assert.is(await journal.append("stats/A", new Uint8Array([3])), 3);
    const got: number[] = [];
    for await (const r of journal.read("stats/A")) got.push(r.pos);
    assert.equal(got, [1, 2, 3], "each record once, no hole");
    await journal.close();
  });
});

test.run();

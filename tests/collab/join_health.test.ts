/**
 * A join storm against a real `troupe collab` process: 500 WebSocket clients ask at once for a
 * session document of about 0.9 MiB. The server must go on answering /healthz while it serves
 * them: a probe sent during the join is answered while clients still wait for the document
 * (`joining` > 0 in its answer), not after the whole join. The probes go from a process of their
 * own (tests/_support/health_probe.ts): from this one, which reads the 500 documents, an answer
 * was read late under load, and the test measured itself. How long a probe takes is a benchmark
 * figure, not this test's.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import * as encoding from "lib0/encoding";
import { WebSocket } from "ws";
import { startTroupe } from "../_support/cli.ts";
import { type HealthProbe, startHealthProbe } from "../_support/health_probe.ts";
import { tempDir } from "../_support/nats.ts";
import { connectClient, tokenFor, waitFor } from "./_support.ts";

const test = suite("collab join storm");

const CLIENTS = 500;
const DOC_BYTES = 900 * 1024;

/** A sync step 1 with an empty state vector: a client with nothing yet. */
function step1(): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, 0); // messageSync
  encoding.writeVarUint(e, 0); // step 1
  encoding.writeVarUint8Array(e, new Uint8Array([0]));
  return encoding.toUint8Array(e);
}

test("/healthz is answered while 500 clients are still waiting for a 0.9 MiB document", async () => {
  const dir = tempDir("troupe-join-health-");
  const server = startTroupe(["collab", "--port", "0", "--data-dir", join(dir.path, "c")]);
  const sockets: WebSocket[] = [];
  let probe: HealthProbe | undefined;
  try {
    await server.waitFor("troupe collab: ws://", 30_000);
    const origin = /ws:\/\/(127\.0\.0\.1:\d+)\/collab/.exec(server.output())![1]!;
    // The server made the data directory's secret: a token of it.
    const token = await tokenFor(join(dir.path, "c"), "ops", "editor");
    // The document: 0.9 MiB of annotations, written in parts under the message size limit.
    const writer = await connectClient(`ws://${origin}/collab`, "ops", token);
    const text = "x".repeat(1000);
    for (let part = 0; part < 9; part++) {
      writer.doc.transact(() => {
        for (let i = 0; i < DOC_BYTES / 1000 / 9; i++) {
          const id = `n${part}-${i}`;
          writer.sdoc.addAnnotation({ id, t: i, channel: "BTC", text, author: "ana" });
        }
      });
    }
    const health = async () =>
      (await (await fetch(`http://${origin}/healthz`)).json()) as { joining: number };
    // The server holds the whole document once a client that joins after the writes gets it all.
    // (Under load its sync, answered once the writes are durable, took over 10 s once.)
    const reader = await connectClient(`ws://${origin}/collab`, "ops", token, { waitSync: false });
    const written = writer.sdoc.annotations.length;
    await waitFor(
      () => reader.sdoc.annotations.length === written,
      120_000,
      `the server to hold the writer's ${written} annotations`,
    );
    reader.destroy();
    writer.destroy();

    let joined = 0;
    await Promise.all(Array.from({ length: CLIENTS }, () =>
      new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(`ws://${origin}/collab/ops?token=${token}`);
        ws.binaryType = "nodebuffer";
        ws.on("message", (data: Buffer) => {
          if (data[0] === 0 && data[1] === 1 && data.byteLength > DOC_BYTES / 2) joined++;
        });
        ws.on("open", () => resolve());
        ws.on("error", reject);
        sockets.push(ws);
      })));
    // Probe as a monitor would, one after another, until one is answered mid-join.
    probe = startHealthProbe(`http://${origin}/healthz`, { untilJoining: true });
    await probe.started;
    const ask = step1();
    for (const ws of sockets) ws.send(ask);
    await waitFor(() => joined === CLIENTS, 120_000, `${CLIENTS} clients to get the document`);
    const answers = (await probe.stop()).map((o) => "body" in o ? o.body.joining : o.error);
    assert.ok(
      answers.some((j) => typeof j === "number" && j > 0),
      `no /healthz answer during the join: ${answers.length} probes, joining ` +
        [...new Set(answers)].join(","),
    );
    assert.is((await health()).joining, 0);
  } finally {
    await probe?.stop().catch(() => {}); // a failure of the test itself is the one to show
    for (const ws of sockets) ws.terminate();
    server.signal("SIGTERM");
    await server.exited;
    dir.remove();
  }
});

test.run();

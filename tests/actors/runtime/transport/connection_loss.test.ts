/**
 * Requests across a lost server (connection_loss.ts), on a real nats-server killed and started
 * again on its port: a request made while the connection has no server is held and sent on the
 * next one (nats.js alone drops it when it dials, and it waits out its timeout unanswered), and
 * one held for its whole timeout fails as never sent.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  failRequestsOnDisconnect,
  RequestNotSentError,
} from "../../../../actors/runtime/transport/connection_loss.ts";
import { electionError } from "../../../../actors/runtime/transport/jetstream_retry.ts";
import { NatsServer } from "../../../../actors/runtime/transport/nats_server.ts";
import { haveNatsServer } from "../../../_support/nats.ts";

const test = suite("connection_loss");
const it = haveNatsServer("connection_loss") ? test : test.skip;

/** Resolves at `nc`'s next status of `type`. */
async function nextStatus(nc: NatsConnection, type: string): Promise<void> {
  for await (const s of nc.status()) if (s.type === type) return;
}

/** A connection to `url` that answers `echo` itself, with its requests made loss-aware. */
async function echoing(url: string): Promise<NatsConnection> {
  const nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
  nc.subscribe("echo", {
    callback: (_err, m) => {
      m.respond(m.data);
    },
  });
  failRequestsOnDisconnect(nc);
  await nc.flush();
  return nc;
}

it("failRequestsOnDisconnect holds a request made with no server and sends it on the next", async () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-connection-loss-"));
  let server = await NatsServer.start({ storeDir: join(dir, "a") });
  const nc = await echoing(server.url);
  try {
    const down = nextStatus(nc, "disconnect");
    await server.kill();
    await down;
    // Made while down: nats.js would drop it at its next dial (several, 50 ms apart).
    const answer = nc.request("echo", new Uint8Array([7]), { timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 300));
    const back = nextStatus(nc, "reconnect");
    server = await NatsServer.start({ storeDir: join(dir, "b"), port: server.port });
    await back;
    const t0 = Date.now();
    const m = await answer;
    assert.equal([...m.data], [7]);
    assert.ok(Date.now() - t0 < 5000, `answered ${Date.now() - t0} ms after the reconnect`);
  } finally {
    await nc.close();
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

it("a request held for its whole timeout fails as never sent (a refusal: safe to send again)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-connection-loss-"));
  const server = await NatsServer.start({ storeDir: join(dir, "a") });
  const nc = await echoing(server.url);
  try {
    const down = nextStatus(nc, "disconnect");
    await server.kill();
    await down;
    const t0 = Date.now();
    const err = await nc.request("echo", undefined, { timeout: 300 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof RequestNotSentError, String(err));
    assert.match((err as Error).message, /"echo".*timeout of 300 ms/);
    assert.is(electionError(err), "refused");
    assert.ok(Date.now() - t0 >= 290, `failed after ${Date.now() - t0} ms`);
  } finally {
    await nc.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();

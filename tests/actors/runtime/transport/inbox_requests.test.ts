/**
 * Requests answered on one inbox (inbox_requests.ts), on a real nats-server: each answer reaches
 * its own request, a silent subject times out and one nobody subscribes to says so at once, a
 * publish the server forbids fails at once, a request in flight when the server dies fails then
 * and one made while it is away is sent on its return, and a bus's `request` goes through it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  InboxNoRespondersError,
  InboxRequests,
  InboxTimeoutError,
  NatsBus,
  RequestLostError,
  RequestNotSentError,
} from "../../../../actors/runtime/transport/mod.ts";
import { NatsServer } from "../../../../actors/runtime/transport/nats_server.ts";
import { BusRequestError } from "../../../../protocol/mod.ts";
import { haveNatsServer } from "../../../_support/nats.ts";

const test = suite("inbox_requests");
const it = haveNatsServer("inbox_requests") ? test : test.skip;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Resolves at `nc`'s next status of `type`. */
async function nextStatus(nc: NatsConnection, type: string): Promise<void> {
  for await (const s of nc.status()) if (s.type === type) return;
}

/** A connection to `url` that answers `echo` (its data, then its `X-N` header) itself. */
async function echoing(url: string, options: { user?: string; pass?: string } = {}) {
  const nc = await connect({
    servers: url,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 50,
    ...options,
  });
  nc.subscribe("echo", {
    callback: (_err, m) => {
      m.respond(enc.encode(`${dec.decode(m.data)}/${m.headers?.get("X-N")}`));
    },
  });
  nc.subscribe("silent", { callback: () => {} });
  await nc.flush();
  return nc;
}

function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => undefined, (e: unknown) => e);
}

/** A server, a connection answering `echo` and `silent`, and its InboxRequests; `done` ends them. */
async function rig() {
  const dir = mkdtempSync(join(tmpdir(), "troupe-inbox-"));
  const server = await NatsServer.start({ storeDir: dir });
  const nc = await echoing(server.url);
  const requests = new InboxRequests(nc);
  const done = async () => {
    requests.close();
    await nc.close();
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  return { requests, done };
}

it("each of 2,000 requests in flight together gets its own answer, headers and all", async () => {
  const { requests, done } = await rig();
  try {
    const answers = await Promise.all(
      Array.from(
        { length: 2000 },
        (_, i) => requests.request("echo", enc.encode(`r${i}`), 5000, [["X-N", String(i)]]),
      ),
    );
    answers.forEach((m, i) => assert.is(dec.decode(m.data), `r${i}/${i}`));
    assert.is(requests.waiting, 0);
  } finally {
    await done();
  }
});

it("a silent subject times out after its timeout; one nobody takes fails at once", async () => {
  const { requests, done } = await rig();
  try {
    let t0 = performance.now();
    const silent = await failure(requests.request("silent", enc.encode("x"), 200));
    const waited = performance.now() - t0;
    assert.instance(silent, InboxTimeoutError);
    assert.is((silent as Error).name, "TimeoutError");
    assert.ok(waited >= 195 && waited < 1000, `timed out after ${waited.toFixed(0)} ms`);
    t0 = performance.now();
    const nobody = await failure(requests.request("nobody.here", enc.encode("x"), 5000));
    assert.instance(nobody, InboxNoRespondersError);
    assert.match((nobody as Error).message, /no responders: 'nobody.here'/);
    assert.ok(performance.now() - t0 < 1000, "told by the server, not by the timeout");
    // An answer is still taken after others timed out.
    assert.is(
      dec.decode((await requests.request("echo", enc.encode("a"), 1000)).data),
      "a/undefined",
    );
    assert.is(requests.waiting, 0);
  } finally {
    await done();
  }
});

it("a publish the server forbids fails at once, with the server's reason", async () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-inbox-"));
  const conf = join(dir, "users.conf");
  writeFileSync(
    conf,
    `authorization {\n  users = [\n    { user: "u", password: "p", permissions: {\n` +
      `      publish: { allow: ["echo", "_INBOX.>"] }\n` +
      `      subscribe: { allow: ["echo", "silent", "_INBOX.>"] }\n    } }\n  ]\n}\n`,
  );
  const server = await NatsServer.start({ args: ["-c", conf], storeDir: join(dir, "js") });
  const nc = await echoing(server.url, { user: "u", pass: "p" });
  const requests = new InboxRequests(nc);
  try {
    const t0 = performance.now();
    const denied = await failure(requests.request("forbidden.x", enc.encode("x"), 10_000));
    assert.ok(denied instanceof Error, String(denied));
    assert.match((denied as Error).message, /[Pp]ermission/);
    assert.ok(performance.now() - t0 < 5000, "not after its timeout");
    assert.is(
      dec.decode((await requests.request("echo", enc.encode("b"), 2000)).data),
      "b/undefined",
    );
  } finally {
    requests.close();
    await nc.close();
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

it("across a lost server: in flight fails then; made while away is held, sent or refused", async () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-inbox-"));
  let server = await NatsServer.start({ storeDir: join(dir, "a") });
  const nc = await echoing(server.url);
  const requests = new InboxRequests(nc);
  try {
    const inFlight = failure(requests.request("silent", enc.encode("x"), 30_000));
    await new Promise((r) => setTimeout(r, 50));
    const down = nextStatus(nc, "disconnect");
    await server.kill();
    await down;
    const lost = await inFlight;
    assert.instance(lost, RequestLostError);
    assert.match((lost as Error).message, /"silent".*lost/);
    const refused = await failure(requests.request("echo", enc.encode("x"), 200));
    assert.instance(refused, RequestNotSentError);
    const held = requests.request("echo", enc.encode("held"), 20_000);
    await new Promise((r) => setTimeout(r, 200));
    const back = nextStatus(nc, "reconnect");
    server = await NatsServer.start({ storeDir: join(dir, "b"), port: server.port });
    await back;
    assert.is(dec.decode((await held).data), "held/undefined");
    const closing = failure(requests.request("silent", enc.encode("x"), 30_000));
    requests.close();
    assert.instance(await closing, RequestLostError, "close() fails what waits");
  } finally {
    requests.close();
    await nc.close();
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

it("a NATS bus's request() goes through its inbox: answers, timeouts and no responders as errors of the bus", async () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-inbox-"));
  const server = await NatsServer.start({ storeDir: dir });
  const nc = await echoing(server.url);
  const bus = await NatsBus.connect(server.url);
  try {
    const m = await bus.request("echo", enc.encode("c"), {
      timeout: 2000,
      headers: { "X-N": "9" },
    });
    assert.is(dec.decode(m.data), "c/9");
    const silent = await failure(bus.request("silent", enc.encode("x"), { timeout: 100 }));
    assert.instance(silent, BusRequestError);
    assert.match((silent as Error).message, /Request on "silent" failed: timeout/);
    assert.is((silent as BusRequestError).noResponders, false);
    const nobody = await failure(bus.request("nobody", enc.encode("x"), { timeout: 2000 }));
    assert.is((nobody as BusRequestError).noResponders, true);
  } finally {
    await bus.close();
    await nc.close();
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();

/**
 * A NATS URL whose port accepts TCP connections but never answers (another service, a proxy with
 * nothing behind it): the commands that connect fail within the connect timeout, saying that it
 * is NATS at that URL that did not answer, instead of hanging for the client's default 20 s.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server, type Socket } from "node:net";
import { runTroupe } from "../_support/cli.ts";
import { tempDir } from "../_support/nats.ts";

const test = suite("a NATS URL that never answers");

test("troupe collab and troupe inject fail on a port that accepts TCP but never speaks NATS, naming NATS and the connect timeout", async () => {
  const sockets: Socket[] = [];
  const server: Server = createServer((s) => sockets.push(s)); // accepts, says nothing
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const url = `nats://127.0.0.1:${(server.address() as { port: number }).port}`;
  const dir = tempDir("troupe-nats-silent-");
  try {
    const [collab, inject] = await Promise.all([
      runTroupe(["collab", "--nats", url, "--port", "0", "--data-dir", dir.path]),
      runTroupe(["inject", "--nats", url, "--duration", "1"]),
    ]);
    assert.is(collab.code, 1, collab.stderr);
    assert.match(
      collab.stderr,
      `troupe collab: cannot start the collaboration server on 127.0.0.1:0: cannot connect to NATS at ${url}: ` +
        `no NATS handshake within the connect timeout of 5000 ms`,
    );
    assert.is(collab.stderr.trim().split("\n").length, 1, collab.stderr);
    assert.is(inject.code, 1, inject.stderr);
    assert.match(inject.stderr, `cannot connect to NATS at ${url}`);
    assert.match(inject.stderr, "connect timeout of 5000 ms");
    assert.ok(sockets.length >= 2, "both connected to the port");
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
    dir.remove();
  }
});

test.run();

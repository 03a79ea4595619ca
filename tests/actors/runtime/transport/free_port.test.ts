import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { freePort } from "../../../../actors/runtime/transport/free_port.ts";

const test = suite("freePort");

function listenOn(port: number): Promise<() => Promise<void>> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(
      port,
      "127.0.0.1",
      () => resolve(() => new Promise<void>((done) => server.close(() => done()))),
    );
  });
}

test("the port is one a server can listen on at once", async () => {
  for (let i = 0; i < 20; i++) {
    const close = await listenOn(await freePort());
    await close();
  }
});

test("on Linux the port lies below the ephemeral range of outgoing connections", async () => {
  const range = "/proc/sys/net/ipv4/ip_local_port_range";
  if (!existsSync(range)) return;
  const first = Number(readFileSync(range, "utf8").trim().split(/\s+/)[0]);
  if (!(first > 10_000)) return;
  for (let i = 0; i < 50; i++) {
    const port = await freePort();
    assert.ok(port >= 10_000 && port < first, `port ${port} outside [10000, ${first})`);
  }
});

test("a port held by a listener is not returned", async () => {
  const held: Array<() => Promise<void>> = [];
  const ports = new Set<number>();
  try {
    for (let i = 0; i < 30; i++) {
      const port = await freePort();
      ports.add(port);
      held.push(await listenOn(port));
    }
    assert.is(ports.size, 30);
  } finally {
    for (const close of held) await close();
  }
});

test.run();

/**
 * NatsServer's stop, on a stand-in for nats-server that ignores SIGTERM (a shell script that says
 * it is ready, then sleeps with SIGTERM ignored): stop() sends SIGTERM, then SIGKILL after its grace
 * period, on Node and on Deno (where ChildProcess.kill() sends nothing after a first signal).
 * Its start on a port another program took: another free port when the port was its own choice,
 * the server's reason when the port was given.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import process from "node:process";
import { NatsServer } from "../../../../actors/runtime/mod.ts";
import { findNatsServer } from "../../../../actors/runtime/transport/nats_server.ts";
import { haveNatsServer, tempDir } from "../../../_support/nats.ts";

const test = suite("nats server process");

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("stop() kills a server that does not heed SIGTERM once the grace period is over", async () => {
  const dir = tempDir("troupe-stubborn-");
  try {
    const binary = join(dir.path, "stubborn-nats-server");
    // An ignored signal stays ignored across exec: the sleep is the process stop() signals.
    writeFileSync(binary, `#!/bin/sh\ntrap '' TERM\necho "Server is ready" >&2\nexec sleep 120\n`);
    chmodSync(binary, 0o755);
    const server = await NatsServer.start({ binary, storeDir: join(dir.path, "store") });
    const pid = server.pid!;
    assert.ok(alive(pid));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const hung = new Promise<"hung">((r) => (timer = setTimeout(() => r("hung"), 30_000)));
    const outcome = await Promise.race([server.stop(200).then(() => "stopped" as const), hung]);
    clearTimeout(timer);
    if (outcome === "hung") process.kill(pid, "SIGKILL");
    assert.is(outcome, "stopped", "stop() returned: the SIGKILL after the grace period was sent");
    assert.not.ok(alive(pid), "the process is gone");
  } finally {
    dir.remove();
  }
});

const real = haveNatsServer("nats server process") ? test : test.skip;

real("a start on a port taken before the server bound it tries another free port", async () => {
  const dir = tempDir("troupe-taken-");
  try {
    // Says what nats-server says when its port is taken, twice; then is nats-server.
    const count = join(dir.path, "attempts");
    const binary = join(dir.path, "unlucky-nats-server");
    writeFileSync(
      binary,
      `#!/bin/sh\necho x >> "${count}"\n` +
        `if [ "$(wc -l < "${count}")" -le 2 ]; then\n` +
        `  echo '[FTL] Error listening on port: "bind: address already in use"' >&2\n  exit 1\nfi\n` +
        `exec "${findNatsServer()}" "$@"\n`,
    );
    chmodSync(binary, 0o755);
    const server = await NatsServer.start({ binary, storeDir: join(dir.path, "store") });
    try {
      assert.is(readFileSync(count, "utf8").split("\n").filter(Boolean).length, 3);
      assert.match(server.log, /Server is ready/);
    } finally {
      await server.kill();
    }
  } finally {
    dir.remove();
  }
});

real("a start on a given port another program holds fails with the server's reason", async () => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
  const port = (holder.address() as { port: number }).port;
  try {
    const failed = await NatsServer.start({ port }).then(
      async (server) => {
        await server.kill();
        return undefined;
      },
      (err: Error) => err,
    );
    assert.ok(failed, "the start failed");
    assert.match(failed.message, /exited with code 1/);
    assert.match(failed.message, /address already in use/);
  } finally {
    await new Promise((resolve) => holder.close(resolve));
  }
});

test.run();

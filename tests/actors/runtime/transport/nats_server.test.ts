/**
 * NatsServer's stop, on a stand-in for nats-server that ignores SIGTERM (a shell script that says
 * it is ready, then sleeps with SIGTERM ignored): stop() sends SIGTERM, then SIGKILL after its grace
 * period, on Node and on Deno (where ChildProcess.kill() sends nothing after a first signal).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { NatsServer } from "../../../../actors/runtime/mod.ts";
import { tempDir } from "../../../_support/nats.ts";

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

test.run();

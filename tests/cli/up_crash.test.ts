/**
 * `troupe up` stops its nats-server however it ends: nats-server runs in a process group of its
 * own (so that Ctrl-C drains the host through it first), so when troupe up died of an error
 * nothing caught, the server ran on, holding the port and the JetStream store; killed outright
 * (kill -9), troupe up cannot stop it, and the next troupe up on the same data directory then
 * started a second server on the same store. That one now stops the server left running first.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import process from "node:process";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ROOT, runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, tempDir } from "../_support/nats.ts";
import { natsServersOn, upArgs } from "./_up.ts";

const test = suite("troupe up: a crash");

/** troupe up on this runtime, with crash_when.mjs preloaded. */
function crashingUp(dataDir: string) {
  const preload = join(ROOT, "tests/_support/crash_when.mjs");
  const args = upArgs(dataDir, ["--channels", "2", "--rate", "200"]);
  const [cmd, cmdArgs] = process.env.TROUPE_TEST_RUNTIME === "deno"
    ? [
      join(ROOT, "node_modules/.bin/deno"),
      ["run", "-A", "--quiet", "--preload", preload, join(ROOT, "cli/main.ts"), ...args],
    ]
    : [process.execPath, ["--import", preload, join(ROOT, "cli/troupe.mjs"), ...args]];
  const child = spawn(cmd, cmdArgs, {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    // Crash once nats-server is up (nats.url is written then).
    env: { ...process.env, TROUPE_TEST_CRASH_WHEN: join(dataDir, "nats.url") },
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  return { child, output: () => out, exited };
}

if (haveNatsServer("troupe up: a crash")) {
  test("troupe up that dies of an error nothing caught stops its nats-server, says the error and exits 1", async () => {
    const dir = tempDir();
    const dataDir = join(dir.path, "d");
    const up = crashingUp(dataDir);
    try {
      const timer = setTimeout(() => up.child.kill("SIGKILL"), 60_000);
      const code = await up.exited;
      clearTimeout(timer);
      assert.is(code, 1, up.output());
      assert.match(up.output(), "troupe up: nats-server on");
      assert.match(up.output(), "stopped by an error nothing caught");
      assert.match(up.output(), "crash_when.mjs throws in a timer");
      for (let i = 0; i < 100 && natsServersOn(join(dataDir, "nats")).length > 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(natsServersOn(join(dataDir, "nats")), [], "no nats-server left");
    } finally {
      for (const pid of natsServersOn(join(dataDir, "nats"))) process.kill(pid, "SIGKILL");
      dir.remove();
    }
  });
}

if (haveNatsServer("troupe up: killed outright")) {
  test("troupe up killed with kill -9 leaves its nats-server; the next troupe up on the data directory stops it first, and stops its own", async () => {
    const dir = tempDir();
    const dataDir = join(dir.path, "d");
    const first = startTroupe(upArgs(dataDir, ["--channels", "2", "--rate", "200"]));
    try {
      await first.waitFor("injecting the synthetic market feed", 120_000);
      first.signal("SIGKILL");
      await first.exited;
      const left = natsServersOn(join(dataDir, "nats"));
      assert.is(left.length, 1, "the first one's server runs on, as nothing could stop it");
      const second = await runTroupe(
        upArgs(dataDir, ["--channels", "2", "--rate", "200", "--duration", "2"]),
        { timeoutMs: 120_000 },
      );
      assert.is(second.code, 0, second.stdout + second.stderr);
      assert.match(
        second.stdout,
        `troupe up: stopped nats-server ${left[0]}, left running on ${join(dataDir, "nats")}`,
      );
      assert.equal(natsServersOn(join(dataDir, "nats")), [], "no nats-server left");
    } finally {
      first.signal("SIGKILL");
      for (const pid of natsServersOn(join(dataDir, "nats"))) process.kill(pid, "SIGKILL");
      dir.remove();
    }
  });
}

test.run();

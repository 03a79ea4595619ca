/**
 * How `troupe up` stops, as a new user meets it: Ctrl-C in a terminal sends SIGINT to the whole
 * foreground process group. nats-server, in that group, stopped at once and the host drained
 * without NATS ("NATS disconnect" in the middle of "draining and stopping"); it now runs in a
 * group of its own and troupe up stops it after the drain. A collaboration port that is taken
 * once ended troupe up with a stack trace, leaving its nats-server running. A second troupe up on
 * the same data directory started a second nats-server on the same JetStream store and took
 * nats.url over before the host's journal lock stopped it. A feed that failed while troupe up
 * waited for Ctrl-C (a NATS flush unanswered) ended it with an unhandled rejection.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import process from "node:process";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ROOT, runTroupe, startTroupe, troupeCommand } from "../_support/cli.ts";
import { haveNatsServer, tempDir } from "../_support/nats.ts";
import { natsServersOn, upArgs } from "./_up.ts";

const test = suite("troupe up: stopping");

/** Listens on a free loopback port, holding it. */
function holdPort(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve({ server, port: typeof address === "object" && address ? address.port : 0 });
    });
  });
}

/** Kills what is left of a troupe up's process group and its nats-server (a failed test's). */
function killAll(group: number, dataDir: string): void {
  for (const pid of [-group, ...natsServersOn(join(dataDir, "nats"))]) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone already: its exit (a signal's, when it failed) is what the test reported.
    }
  }
}

/** A small troupe up on `dataDir`, on free ports. */
function smallUp(dataDir: string): string[] {
  return upArgs(dataDir, ["--channels", "2", "--rate", "200"]);
}

/** Starts troupe up on `dataDir` in a process group of its own, as a shell gives a foreground job. */
function upInItsGroup(dataDir: string) {
  const [cmd, args] = troupeCommand(smallUp(dataDir));
  const child = spawn(cmd, args, {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const out = { stdout: "", stderr: "" };
  child.stdout!.on("data", (d) => (out.stdout += d));
  child.stderr!.on("data", (d) => (out.stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  return { child, out, exited };
}

if (haveNatsServer("troupe up: stopping")) {
  test("Ctrl-C to troupe up's process group drains through NATS, then stops nats-server", async () => {
    const dir = tempDir();
    const dataDir = join(dir.path, "d");
    const { child, out, exited } = upInItsGroup(dataDir);
    try {
      while (!out.stdout.includes("injecting the synthetic market feed")) {
        if (child.exitCode !== null) {
          assert.unreachable(`exited early:\n${out.stdout}\n${out.stderr}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      const servers = natsServersOn(join(dataDir, "nats"));
      assert.is(servers.length, 1, `its nats-server: ${servers}`);
      process.kill(-child.pid!, "SIGINT"); // the whole group, as the terminal does
      assert.is(await exited, 0, out.stderr);
      assert.match(out.stdout, "troupe up: stopped cleanly:");
      assert.match(out.stderr, "troupe up: SIGINT: draining and stopping");
      assert.not.match(out.stderr, "NATS disconnect", "NATS was there for the whole drain");
      assert.equal(natsServersOn(join(dataDir, "nats")), [], "no nats-server left");
      assert.not.ok(existsSync(join(dataDir, "nats.url")), "nats.url removed");
    } finally {
      killAll(child.pid!, dataDir);
      dir.remove();
    }
  });

  test("Ctrl-C while troupe up is still starting is kept: it finishes starting, then stops cleanly", async () => {
    const dir = tempDir();
    const dataDir = join(dir.path, "d");
    const { child, out, exited } = upInItsGroup(dataDir);
    try {
      // Its nats-server is up, the host and the collaboration server not yet.
      while (natsServersOn(join(dataDir, "nats")).length === 0) {
        if (child.exitCode !== null) {
          assert.unreachable(`exited early:\n${out.stdout}\n${out.stderr}`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      process.kill(-child.pid!, "SIGINT");
      assert.is(await exited, 0, out.stdout + out.stderr);
      assert.match(out.stderr, "troupe up: SIGINT: draining and stopping");
      assert.match(out.stdout, "troupe up: stopped cleanly:");
      assert.equal(natsServersOn(join(dataDir, "nats")), [], "no nats-server left");
    } finally {
      killAll(child.pid!, dataDir);
      dir.remove();
    }
  });

  test("a taken --collab-port ends troupe up in one line, exit 1, with nothing left running", async () => {
    const dir = tempDir();
    const dataDir = join(dir.path, "d");
    const held = await holdPort();
    try {
      const r = await runTroupe([
        "up",
        "--data-dir",
        dataDir,
        "--http-port",
        "0",
        "--collab-port",
        String(held.port),
      ], { timeoutMs: 120_000 });
      assert.is(r.code, 1, r.stdout + r.stderr);
      const errors = r.stderr.split("\n").filter((l) => l.startsWith("troupe up:"));
      assert.equal(errors.length, 1, r.stderr);
      assert.match(
        errors[0]!,
        new RegExp(
          `^troupe up: cannot start the collaboration server on port ${held.port}: .*EADDRINUSE`,
        ),
      );
      assert.not.match(r.stderr, "    at ", "no stack trace");
      assert.equal(natsServersOn(join(dataDir, "nats")), [], "no nats-server left");
      assert.not.ok(existsSync(join(dataDir, "nats.url")), "nats.url removed");
      assert.not.ok(existsSync(join(dataDir, "http.url")), "http.url removed");
    } finally {
      held.server.close();
      for (const pid of natsServersOn(join(dataDir, "nats"))) process.kill(pid, "SIGKILL");
      dir.remove();
    }
  });
  test("a second troupe up on the same data directory names the first, exit 1, starting nothing", async () => {
    const dir = tempDir();
    const dataDir = join(dir.path, "d");
    const first = startTroupe(smallUp(dataDir));
    try {
      await first.waitFor("injecting the synthetic market feed", 120_000);
      const natsUrl = readFileSync(join(dataDir, "nats.url"), "utf8");
      const r = await runTroupe(upArgs(dataDir), { timeoutMs: 120_000 });
      assert.is(r.code, 1, r.stdout + r.stderr);
      assert.is(
        r.stderr.replace(/^npm warn.*\n/gm, ""),
        `troupe up: the data directory ${dataDir} is in use by process ${first.child.pid} ` +
          `(another troupe up? its lock file is ${join(dataDir, "LOCK")}): stop it, or pass ` +
          "another --data-dir\n",
      );
      assert.not.match(r.stdout, "nats-server on", "no second nats-server");
      assert.is(natsServersOn(join(dataDir, "nats")).length, 1, "the first one's alone");
      assert.is(readFileSync(join(dataDir, "nats.url"), "utf8"), natsUrl, "nats.url kept");
    } finally {
      await first.stop();
      for (const pid of natsServersOn(join(dataDir, "nats"))) process.kill(pid, "SIGKILL");
      dir.remove();
    }
  });

  test("a feed whose NATS server stops answering waits for it, says so, and goes on", async () => {
    const dir = tempDir();
    const dataDir = join(dir.path, "d");
    const up = startTroupe(smallUp(dataDir));
    let stopped = false;
    try {
      await up.waitFor("injecting the synthetic market feed", 120_000);
      const [pid] = natsServersOn(join(dataDir, "nats"));
      assert.ok(pid, "its nats-server");
      process.kill(pid!, "SIGSTOP"); // a server that answers nothing, as on a machine at a halt
      stopped = true;
      await up.waitFor("did not answer; the feed waits for it", 60_000);
      process.kill(pid!, "SIGCONT");
      stopped = false;
      await up.waitFor("answers; the feed goes on", 60_000);
      const sent = () => [...up.output().matchAll(/(\d+) samples sent/g)].map((m) => Number(m[1]));
      const before = sent().at(-1) ?? 0;
      for (const t0 = Date.now(); (sent().at(-1) ?? 0) <= before;) {
        assert.ok(Date.now() - t0 < 60_000, `no more samples sent after ${before}\n${up.output()}`);
        await new Promise((r) => setTimeout(r, 500));
      }
      up.signal("SIGINT");
      assert.is(await up.exited, 0, up.output());
      assert.match(up.output(), "troupe up: stopped cleanly:");
      assert.not.match(up.output(), "Node.js v", "no crash");
      assert.equal(natsServersOn(join(dataDir, "nats")), [], "no nats-server left");
    } finally {
      for (const pid of natsServersOn(join(dataDir, "nats"))) {
        if (stopped) process.kill(pid, "SIGCONT");
      }
      await up.stop();
      for (const pid of natsServersOn(join(dataDir, "nats"))) process.kill(pid, "SIGKILL");
      dir.remove();
    }
  });
}

test.run();

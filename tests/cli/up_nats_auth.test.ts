/**
 * `troupe up`'s nats-server is secure by default: a user per role with a fresh nkey, the seeds
 * in the data directory (mode 0600) and never printed, the hosts, the dashboard's bridge and the
 * feed at work under those users, the commands next to it connecting as their role (ctl as the
 * operator, status as the viewer), a client without credentials refused; the commands find up's
 * files in another data directory by `--data-dir`, and a refusal says where they looked.
 * `--nats-open` starts it without users, `--nats-port` where it is told.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { NatsBus } from "../../actors/runtime/mod.ts";
import { freePort } from "../../actors/runtime/transport/free_port.ts";
import { runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, tempDir } from "../_support/nats.ts";
import { upArgs } from "./_up.ts";

const test = suite("troupe up: NATS users");

/** Waits until `output()` says the feed runs; fails with the output when up exits first. */
async function untilFeeding(up: ReturnType<typeof startTroupe>): Promise<void> {
  const until = Date.now() + 90_000;
  while (!up.output().includes("injecting the synthetic market feed")) {
    if (up.child.exitCode !== null || Date.now() > until) {
      assert.unreachable(`troupe up did not start its feed:\n${up.output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Whether a client without credentials gets in: true, or the server's refusal. */
async function anonymous(url: string): Promise<true | string> {
  try {
    const bus = await NatsBus.connect(url, { name: "stranger" });
    await bus.close();
    return true;
  } catch (err) {
    return (err as Error).message;
  }
}

test("by default: a user per role, the commands beside up connect as theirs, no stranger", async () => {
  const dir = tempDir();
  // The commands run from `dir.path` find up's files in .troupe, as a user's would.
  const up = startTroupe(upArgs(".troupe", ["--channels", "2", "--rate", "200"]), dir.path);
  try {
    await untilFeeding(up);
    const dataDir = join(dir.path, ".troupe");
    const url = readFileSync(join(dataDir, "nats.url"), "utf8").trim();
    const authDir = join(dataDir, "nats-auth");
    assert.equal(readdirSync(authDir).sort(), [
      "bridge.nk",
      "host.nk",
      "nats-server.conf",
      "operator.nk",
      "receiver.nk",
      "viewer.nk",
    ]);
    assert.is(statSync(authDir).mode & 0o777, 0o700);
    const seeds = ["bridge", "host", "operator", "receiver", "viewer"].map((role) => {
      const path = join(authDir, `${role}.nk`);
      assert.is(statSync(path).mode & 0o777, 0o600, path);
      const seed = readFileSync(path, "utf8").trim();
      assert.match(seed, /^SU[A-Z2-7]{56}$/);
      return seed;
    });
    // The server's configuration holds the public keys only.
    const conf = readFileSync(join(authDir, "nats-server.conf"), "utf8");
    for (const seed of seeds) assert.not.ok(conf.includes(seed));
    assert.match(await anonymous(url) as string, /Authorization Violation/);

    const ctl = await runTroupe(["ctl", "anomaly", "--set", "threshold=0.4"], { cwd: dir.path });
    assert.is(ctl.code, 0, ctl.stdout + ctl.stderr);
    assert.match(ctl.stdout, /accepted anomaly \{"threshold":0\.4\}/);
    const status = await runTroupe(["status", "--json"], { cwd: dir.path });
    assert.is(status.code, 0, status.stdout + status.stderr);
    assert.match(status.stdout, /"partitions"/);
    // The viewer's seed does not change actors: its ctl is refused by the server.
    const asViewer = await runTroupe(
      ["ctl", "anomaly", "--set", "threshold=0.5", "--nats-nkey", join(authDir, "viewer.nk")],
      { cwd: dir.path },
    );
    assert.is(asViewer.code, 1, asViewer.stdout + asViewer.stderr);
    for (const out of [up.output(), ctl.stdout, ctl.stderr, status.stdout, asViewer.stderr]) {
      for (const seed of seeds) assert.not.ok(out.includes(seed), "a seed was printed");
    }
  } finally {
    await up.stop();
    dir.remove();
  }
});

test("--data-dir: the commands find up's server and their seeds in its own data directory", async () => {
  const dir = tempDir();
  // Nothing in the commands' working directory: up's files are in d.
  const up = startTroupe(upArgs("d", ["--channels", "2", "--rate", "200"]), dir.path);
  try {
    await untilFeeding(up);
    const url = readFileSync(join(dir.path, "d", "nats.url"), "utf8").trim();
    const at = { cwd: dir.path };
    const commands = [
      ["ctl", "anomaly", "--set", "threshold=0.4"],
      ["record", "--out", "r.rec", "--duration", "1"],
      ["inject", "--duration", "1", "--rate", "50", "--channels", "1"],
      ["incidents"],
      ["status"],
    ];
    for (const command of commands) {
      const r = await runTroupe([...command, "--data-dir", "d"], at);
      assert.is(r.code, 0, `${command[0]}: ${r.stdout}${r.stderr}`);
    }
    assert.ok(statSync(join(dir.path, "r.rec")).size > 0);
    // Without it, the refusal names the credentials given and where up's seeds were looked for.
    for (const command of commands.filter(([c]) => c !== "status")) {
      const r = await runTroupe([...command, "--nats", url], at);
      assert.is(r.code, 1, `${command[0]}: ${r.stdout}${r.stderr}`);
      assert.match(
        r.stderr,
        `troupe ${command[0]}: cannot connect to NATS at ${url}: Authorization Violation. ` +
          "The server refused no credentials. A nats-server troupe up started keeps a seed for " +
          "each command's role in DIR/nats-auth, found with --data-dir DIR (looked in " +
          `${join(".troupe", "nats-auth")})`,
      );
    }
    const status = await runTroupe(["status", "--nats", url], at);
    assert.is(status.code, 1, status.stdout + status.stderr);
    assert.match(status.stderr, "The server refused no credentials.");
    const wrong = await runTroupe(
      ["ctl", "anomaly", "--set", "threshold=0.4", "--nats", url, "--nats-nkey", "missing.nk"],
      at,
    );
    assert.is(wrong.code === 0, false, wrong.stdout + wrong.stderr);
    assert.not.match(wrong.stderr, /\n\s+at /, "no stack trace");
  } finally {
    await up.stop();
    dir.remove();
  }
});

test("--nats-open: no users; --nats-port: the port it is told", async () => {
  const dir = tempDir();
  const port = await freePort();
  const up = startTroupe(
    upArgs(join(dir.path, "d"), [
      "--channels",
      "2",
      "--rate",
      "200",
      "--nats-open",
      "--nats-port",
      String(port),
    ]),
  );
  try {
    await untilFeeding(up);
    const url = `nats://127.0.0.1:${port}`;
    assert.is(readFileSync(join(dir.path, "d", "nats.url"), "utf8").trim(), url);
    assert.match(up.output(), /--nats-open: no credentials/);
    assert.is(await anonymous(url), true);
  } finally {
    await up.stop();
    dir.remove();
  }
});

if (haveNatsServer("troupe up: NATS users")) test.run();

/**
 * `troupe up --threads N` (issue 33): up's host runs its partitions on worker threads, a
 * partition a thread, as `troupe run --threads N` does. Against a real troupe up with a real
 * nats-server: both threads run, /healthz and /metrics speak for both (and for the incident
 * stage beside them), troupe status gives the host's channels summed over its threads, a scan through the host's port covers every symbol, the session records
 * and replays to the same outputs, and Ctrl-C stops everything cleanly. Options that cannot run
 * on threads are refused before anything starts.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import { parseHostConfig } from "../../actors/runtime/mod.ts";
import { runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, tempDir } from "../_support/nats.ts";
import { upArgs } from "./_up.ts";

const test = suite("troupe up --threads");

test("--threads 2 with --hosts, a JetStream journal or without NATS is refused before anything starts", async () => {
  let r = await runTroupe(["up", "--threads", "2", "--hosts", "2"]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, "Option --threads 2: it cannot go with --hosts 2");
  r = await runTroupe(["up", "--threads", "2", "--journal", "jetstream"]);
  assert.is(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    "Option --threads 2: a thread keeps its journal in a directory of its own",
  );
  assert.match(r.stderr, 'got "jetstream"');
  r = await runTroupe(["up", "--threads", "2", "--no-nats"]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, "Option --threads 2: its threads connect to NATS");
  r = await runTroupe(["up", "--threads", "0"]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, "--threads");
});

if (haveNatsServer("troupe up --threads")) {
  test("up --threads 2: both threads run, ops, scans and recording work, Ctrl-C stops cleanly", async () => {
    const dir = tempDir();
    const dataDir = join(dir.path, "d");
    const rec = join(dir.path, "s.rec");
    const up = startTroupe(
      upArgs(dataDir, ["--threads", "2", "--channels", "4", "--rate", "400", "--record", rec]),
    );
    try {
      await up.waitFor("injecting the synthetic market feed", 60_000);
      assert.match(up.output(), /troupe up: host up-1 running .* on 2 threads/);
      const threads = JSON.parse(readFileSync(join(dataDir, "up-1", "threads.json"), "utf8"));
      assert.equal(threads, { threads: 2 });
      const url = readFileSync(join(dataDir, "http.url"), "utf8").trim();
      assert.match(up.output(), `scans: troupe scan, or POST ${url}/scan/stream`);
      let health = { ok: false, instances: { running: 0 } };
      for (let i = 0; i < 40 && health.instances.running < 4; i++) {
        await new Promise((r) => setTimeout(r, 250));
        health = await (await fetch(`${url}/healthz`)).json();
      }
      assert.ok(health.ok && health.instances.running >= 4, JSON.stringify(health));
      const metrics = await (await fetch(`${url}/metrics`)).text();
      for (const t of ["up-1-t0", "up-1-t1"]) assert.match(metrics, `host="${t}"`);
      assert.match(metrics, "troupe_incidents{", "the incident stage's series");
      // The host's channels, its threads' summed, against the host's limit: /metrics labels them
      // by the host, and troupe status prints them under it.
      const max = parseHostConfig({}, ACTOR_KINDS).limits.channels_max;
      assert.match(metrics, `\ntroupe_channels_max{host="up-1"} ${max}\n`);
      assert.not.match(metrics, /\ntroupe_channels_free\{host="up-1-t\d"\}/);
      const shown = await runTroupe(["status", "--data-dir", dataDir]);
      assert.is(shown.code, 0, shown.stderr);
      const room = new RegExp(`\\n {4}channels (\\d+) of ${max}: (\\d+) more fit `)
        .exec(shown.stdout);
      assert.ok(room, shown.stdout);
      const [admitted, free] = [Number(room[1]), Number(room[2])];
      assert.ok(admitted >= 4, shown.stdout);
      assert.is(admitted + free, max, shown.stdout);
      // The scan API, on thread 0, through the host's port: every thread's symbols.
      let last = "";
      for (let i = 0; i < 20 && !/done: 4 of 4 symbols/.test(last); i++) {
        const r = await runTroupe(["scan", "close > 0", "--bar", "1s", "--json", "--url", url]);
        assert.is(r.code, 0, r.stderr);
        last = r.stderr;
        if (!/done: 4 of 4 symbols/.test(last)) await new Promise((r) => setTimeout(r, 500));
      }
      assert.match(last, "done: 4 of 4 symbols");
      up.signal("SIGINT");
      assert.is(await up.exited, 0, up.output());
      assert.match(up.output(), "troupe up: stopped cleanly:");
      assert.match(up.output(), "troupe up: recorded ");
      assert.not.ok(existsSync(join(dataDir, "nats.url")), "nats.url removed");
      const replay = await runTroupe(["replay", rec, "--verify"]);
      assert.is(replay.code, 0, replay.stdout + replay.stderr);
    } finally {
      await up.stop();
      dir.remove();
    }
  });
}

test.run();

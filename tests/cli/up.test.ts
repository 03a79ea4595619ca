import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { parseDuration } from "../../cli/args.ts";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import { parseHostConfig } from "../../actors/runtime/mod.ts";
import { runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, tempDir } from "../_support/nats.ts";

const test = suite("troupe up");

function applied(stdout: string): number {
  const m = stdout.match(
    /stopped cleanly: (\d+) samples sent, (\d+) inputs applied, (\d+) outputs/,
  );
  assert.ok(m, stdout);
  return Number(m![2]);
}

test("troupe up --no-nats runs every kind on the in-process bus, says so, and stops cleanly", async () => {
  const dir = tempDir();
  try {
    const r = await runTroupe([
      "up",
      "--no-nats",
      "--duration",
      "3s",
      "--channels",
      "4",
      "--data-dir",
      join(dir.path, "d"),
      "--http-port",
      "0",
    ]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, "troupe up: --no-nats: everything runs on the in-process bus");
    assert.not.match(r.stdout, "not on PATH");
    assert.match(r.stdout, "stats, anomaly, collapse, coherence");
    assert.ok(applied(r.stdout) > 20, r.stdout);
  } finally {
    dir.remove();
  }
});

test("a bad duration is a usage error in two lines; 30s, 5m and 1h are durations", async () => {
  const r = await runTroupe(["up", "--no-nats", "--duration", "5 minutes"]);
  assert.is(r.code, 2, r.stderr);
  assert.is(
    r.stderr,
    'troupe up: Option --duration must be seconds, or a number with a unit: 500ms, 30s, 5m, 1h, got "5 minutes"\n' +
      "Run troupe up --help for its options.\n",
  );
  assert.is(parseDuration("30s"), 30);
  assert.is(parseDuration("5m"), 300);
  assert.is(parseDuration("1h"), 3600);
  assert.is(parseDuration("1.5"), 1.5);
  assert.is(parseDuration("250ms"), 0.25);
  for (const bad of ["", "-5", "5x", "m", "1h30m", "5 m"]) {
    assert.is(parseDuration(bad), undefined, bad);
  }
});

test("troupe up --feed takes market, metrics or remote-write, and names anything else", async () => {
  const r = await runTroupe(["up", "--no-nats", "--feed", "stocks"]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, 'Option --feed must be market, metrics or remote-write, got "stocks"');
});

test("troupe up --help lists every option, with its usage line", async () => {
  const r = await runTroupe(["up", "--help"]);
  assert.is(r.code, 0);
  for (const option of ["--seed", "--http-port", "--record", "--no-nats", "--data-dir"]) {
    assert.match(r.stdout.split("\n")[2]!, option, `usage line: ${option}`);
    assert.match(r.stdout, new RegExp(`^  ${option} `, "m"), `options: ${option}`);
  }
});

if (haveNatsServer("troupe up")) {
  test("with 4222 taken, troupe up says where NATS listens, and inject and ctl find it", async () => {
    const dir = tempDir();
    // Hold 4222 ourselves. Held by someone else, it may be for a moment only: the other runtime's
    // suite runs troupe up too, and a troupe up that took 4222 as it was let go once made this
    // test fail. So try for a while; a holder that stays all that time keeps it from troupe up
    // as well.
    const holder = createServer();
    for (let tries = 0; tries < 300 && !holder.listening; tries++) {
      await new Promise<void>((resolve) => {
        holder.once("error", () => setTimeout(resolve, 200));
        holder.listen(4222, "127.0.0.1", () => resolve());
      });
    }
    // Stopped by the test (SIGINT, below); the duration only bounds a test that fails first, and
    // outlasts every command below on a loaded machine: once up stops, .troupe/nats.url is gone
    // and a command would try 4222.
    const up = startTroupe(
      ["up", "--duration", "180", "--channels", "2", "--http-port", "0"],
      dir.path,
    );
    try {
      await up.waitFor("is taken, so NATS listens on", 20_000);
      const line = up.output().split("\n").find((l) => l.includes("is taken"))!;
      assert.match(
        line,
        "inject, record and ctl run from this directory find it in .troupe/nats.url",
      );
      const url = line.match(/nats:\/\/127\.0\.0\.1:(\d+)/)![0];
      assert.is.not(url, "nats://127.0.0.1:4222");
      assert.is(readFileSync(join(dir.path, ".troupe", "nats.url"), "utf8").trim(), url);
      await up.waitFor("injecting the synthetic market feed", 20_000);
      const ctl = await runTroupe(["ctl", "stats", "--set", "every_samples=50"], { cwd: dir.path });
      assert.is(ctl.code, 0, ctl.stderr);
      assert.match(ctl.stdout, 'troupe ctl: up-1 accepted stats {"every_samples":50}');
      // With no leases, status shows up's own host and what it owns, found through http.url;
      // --data-dir finds it from another directory.
      const status = await runTroupe(["status", "--data-dir", join(dir.path, ".troupe")]);
      assert.is(status.code, 0, status.stderr);
      assert.match(status.stdout, /^1 host, owning 1 partition without leases\n/);
      assert.match(
        status.stdout,
        /\n {2}up-1 {2}partitions 0 {2}\((healthy|unhealthy); actors \d+ /,
      );
      assert.match(
        status.stdout,
        /incident stage: on up-1 \(beside the host that owns partition 0\)/,
      );
      // How many more channels fit: the limit sized from the machine's memory.
      const room = /\n {4}channels (\d+) of (\d+): (\d+) more fit \(limits\.channels_max/
        .exec(status.stdout);
      assert.ok(room, status.stdout);
      const [admitted, max, free] = room.slice(1).map(Number) as [number, number, number];
      assert.ok(admitted > 0 && free === max - admitted, status.stdout);
      assert.is(max, parseHostConfig({}, ACTOR_KINDS).limits.channels_max);
      const json = await runTroupe(["status", "--json"], { cwd: dir.path });
      assert.is(json.code, 0, json.stderr);
      const view = JSON.parse(json.stdout);
      assert.is(view.health.channels.max, max);
      assert.equal(view.hosts.map((h: { host: string }) => h.host), ["up-1"]);
      assert.equal(view.partitions.map((p: { owner: string }) => p.owner), ["up-1"]);
      const inj = await runTroupe(
        ["inject", "--channels", "2", "--duration", "1s", "--rate", "1000", "--feed-name", "extra"],
        { cwd: dir.path },
      );
      assert.is(inj.code, 0, inj.stderr);
      assert.match(inj.stdout, "1000 samples");
      up.signal("SIGINT");
      assert.is(await up.exited, 0, up.output());
      assert.not.ok(existsSync(join(dir.path, ".troupe", "nats.url")), "nats.url removed at stop");
    } finally {
      await up.stop();
      if (holder.listening) await new Promise<void>((resolve) => holder.close(() => resolve()));
      dir.remove();
    }
  });

  test("troupe up --feed metrics runs the metrics feed with the metrics settings, and troupe inject --feed metrics sends them to its host", async () => {
    const dir = tempDir();
    const up = startTroupe(
      ["up", "--feed", "metrics", "--duration", "40", "--channels", "2", "--http-port", "0"],
      dir.path,
    );
    try {
      await up.waitFor("injecting the synthetic metrics feed", 30_000);
      const out = up.output();
      assert.match(out, "troupe up: metrics settings: collapse season_us 86400000000");
      assert.match(out, "on troupe.feed.metrics.*");
      assert.not.match(out, "demo settings");
      // Service metrics: every kind but those for markets (stats, bars), and so no scans.
      assert.match(out, "running anomaly, collapse, coherence (journal");
      assert.not.match(out, "scans:");
      const inj = await runTroupe(
        [
          "inject",
          "--feed",
          "metrics",
          "--channels",
          "2",
          "--duration",
          "1s",
          "--rate",
          "500",
          "--feed-name",
          "extra",
        ],
        { cwd: dir.path },
      );
      assert.is(inj.code, 0, inj.stderr);
      // Each channel's collapse instance on the host took the settings.
      assert.match(inj.stderr, "troupe inject: metrics settings: collapse season_us 86400000000");
      assert.ok(inj.stderr.includes("taken for 2 channels"), inj.stderr);
      up.signal("SIGINT");
      assert.is(await up.exited, 0, up.output());
    } finally {
      await up.stop();
      dir.remove();
    }
  });

  test("troupe up starts nats-server with JetStream, and a second run recovers the actors", async () => {
    const dir = tempDir();
    try {
      const args = [
        "up",
        "--duration",
        "3",
        "--channels",
        "3",
        "--data-dir",
        join(dir.path, "d"),
        "--http-port",
        "0",
      ];
      const first = await runTroupe(args);
      assert.is(first.code, 0, first.stderr);
      assert.match(first.stdout, "nats-server on nats://127.0.0.1:");
      assert.ok(applied(first.stdout) > 10, first.stdout);
      const second = await runTroupe(args);
      assert.is(second.code, 0, second.stderr);
      // 3 channels x 4 per-channel kinds (stats, anomaly, collapse, bars) + the coherence group
      assert.match(second.stderr, "recovered 13 actor instances");
    } finally {
      dir.remove();
    }
  });
}

test.run();

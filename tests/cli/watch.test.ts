import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { defaultIncidentConfig, runIncidentStage } from "../../actors/incidents/mod.ts";
import { encodeColumns, encodeEnvelope, encodeEventEnvelope } from "../../protocol/mod.ts";
import { ROOT, runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, tempDir } from "../_support/nats.ts";
import { waitFor } from "../collab/_support.ts";
import { type GatewayEnv, withGateway } from "../collab/_stream_support.ts";
import { upArgs } from "./_up.ts";

const test = suite("troupe watch");
const run = haveNatsServer("troupe watch");
const TS = 1_800_000_000_000_000;

function anomaly(channel: string, score: number, ts = TS): Uint8Array {
  return encodeEventEnvelope({ id: `a-${channel}-${score}`, type: "anomaly", src: "t", ts }, {
    type: "anomaly",
    ts,
    channel,
    score,
    value: 110,
    expected: 100,
    lower: 95,
    upper: 105,
  });
}

function collapse(channel: string, severity: number): Uint8Array {
  return encodeEventEnvelope({ id: `c-${channel}`, type: "collapse", src: "t", ts: TS + 1 }, {
    type: "collapse",
    ts: TS + 1,
    channel,
    change_ts: TS - 1_000_000,
    change_index: 3,
    delay_samples: 4,
    mean_before: 10,
    mean_after: 20,
    level_before: 10,
    level_after: 20,
    spread_before: 2,
    spread_after: 2,
    direction: "up",
    severity,
  });
}

/** Publishes what the actors would: findings mixed with data that is not one. */
function publishMix(env: GatewayEnv): void {
  const p = (subject: string, data: Uint8Array) => env.pub.publish(subject, data);
  const columns = encodeColumns(
    {
      channel: "BTC",
      seq0: 0,
      t: new Float64Array([1]),
      columns: { score: new Float64Array([1]) },
    },
    { id: "cols", src: "t" },
  );
  p("troupe.out.anomaly.BTC", columns); // data, not a finding
  p("troupe.finding.anomaly.BTC", anomaly("BTC", 0.3)); // severity 1, under --min-severity 2
  p("troupe.finding.anomaly.ETH", anomaly("ETH", 0.95)); // outside --channel B*
  p("troupe.finding.anomaly.BTC", anomaly("BTC", 0.9));
  p("troupe.finding.collapse.BNB", collapse("BNB", 4));
  p(
    "troupe.dlq.decode",
    encodeEnvelope({
      id: "d1",
      type: "dead_letter",
      src: "t",
      ts: TS + 2,
      body: {
        subject: "troupe.feed.m.BTC",
        reason: "decode",
        error: "field t is short",
        raw: new Uint8Array(2),
      },
    }),
  );
  p("troupe.finding.anomaly.api-latency_ms", anomaly("api-latency_ms", 0.95));
}

/**
 * Runs `troupe watch ARGS` against the gateway, publishes the mix once it has subscribed, and
 * gives back what it printed when it exited (0). A failed check does not leave it running.
 */
async function watchMix(env: GatewayEnv, args: string[]): Promise<string> {
  const watch = startTroupe(["watch", "--url", env.url, "--token", env.token, ...args]);
  try {
    await waitFor(
      () => env.collab.stream!.stats().subscriptions === 2,
      30_000,
      "watch to subscribe",
    );
    publishMix(env);
    await env.pub.flush();
    assert.is(await watch.exitCode(), 0, watch.output());
    return watch.output();
  } finally {
    watch.signal("SIGKILL"); // moot once it exited
  }
}

test("troupe watch --json prints one NDJSON finding per line, filtered by kind, channel and severity", async () => {
  await withGateway(async (env) => {
    const out = await watchMix(env, [
      "--findings",
      "--json",
      "--kinds",
      "anomaly,collapse,dlq",
      "--channel",
      "B*",
      "--min-severity",
      "2",
      "--count",
      "2",
    ]);
    const lines = out.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.map((l) => [l.kind, l.channel, l.severity]), [
      ["anomaly", "BTC", 5],
      ["collapse", "BNB", 4],
    ]);
    assert.is(lines[0].time, "2027-01-15T08:00:00.000Z");
    assert.is(lines[0].strength, "score 0.90");
    assert.match(lines[0].what, "value 110, expected 100, band 95..105, above the band");
    assert.is(lines[0].subject, "troupe.finding.anomaly.BTC");
    assert.is(lines[0].unit, "", "a market symbol has no unit");
    assert.is(lines[1].detail.mean_after, 20);
  });
});

test("troupe watch --json gives a finding's values their channel's unit, as its line writes them", async () => {
  await withGateway(async (env) => {
    const out = await watchMix(env, ["--findings", "--json", "--channel", "api-*", "--count", "1"]);
    const lines = out.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.map((l) => [l.kind, l.channel, l.unit]), [
      ["anomaly", "api-latency_ms", "ms"],
    ]);
    assert.match(lines[0].what, "value 110 ms, expected 100 ms, band 95..105 ms");
  });
});

test("troupe watch prints a readable line per finding: time, kind, channel, what, how strong", async () => {
  await withGateway(async (env) => {
    const out = await watchMix(env, ["--findings", "--count", "4"]);
    const lines = out.trim().split("\n");
    assert.is(lines.length, 4, out);
    assert.match(
      lines[0]!,
      /^2027-01-15 08:00:00\.000 {2}anomaly {3}BTC +incident: value 110.*\[severity 1, score 0\.30\]$/,
    );
    assert.match(lines[2]!, /anomaly {3}BTC .*\[severity 5, score 0\.90\]$/);
    assert.match(
      lines[3]!,
      /collapse {2}BNB +regime change up: level 10 -> 20.*\[severity 4, 4\.0 spreads\]$/,
    );
  });
});

/**
 * Once watch has subscribed, publishes a crash over 8 channels, then a finding two minutes later
 * that moves event time on: the crash fires, then resolves at the end of its grouping window (a
 * minute: its hold, 30 s after its last finding, ends before).
 */
async function publishCrash(env: GatewayEnv): Promise<void> {
  await waitFor(() => env.collab.stream!.stats().subscriptions === 1, 30_000, "watch to subscribe");
  for (let i = 0; i < 8; i++) {
    const channel = `SYM00${i + 1}`;
    env.pub.publish(`troupe.finding.anomaly.${channel}`, anomaly(channel, 0.95, TS + i * 150_000));
  }
  env.pub.publish("troupe.finding.anomaly.OTHER", anomaly("OTHER", 0.95, TS + 120_000_000));
  await env.pub.flush();
}

test("troupe watch prints incidents by default: a crash over 8 channels is one line when it fires, one when it resolves", async () => {
  await withGateway(async (env) => {
    const stage = runIncidentStage(env.pub, { config: defaultIncidentConfig });
    const watch = startTroupe(["watch", "--url", env.url, "--token", env.token, "--count", "2"]);
    try {
      await publishCrash(env);
      assert.is(await watch.exitCode(), 0, watch.output());
      const lines = watch.output().trim().split("\n");
      assert.is(lines.length, 2, watch.output());
      assert.match(
        lines[0]!,
        /^2027-01-15 08:00:02\.000 {2}firing {3}anomaly {3}8 channels: SYM001, SYM002, SYM003, SYM004 \+4 {2}\[severity 5, 8 findings\] {2}anomaly-1800000000000000-SYM001$/,
      );
      assert.match(lines[1]!, /^2027-01-15 08:01:00\.000 {2}resolved +anomaly {3}8 channels/);
    } finally {
      watch.signal("SIGKILL");
      stage.stop();
    }
  });
});

test("troupe watch stopped by Ctrl-C counts the incident lines it printed", async () => {
  await withGateway(async (env) => {
    const stage = runIncidentStage(env.pub, { config: defaultIncidentConfig });
    const watch = startTroupe(["watch", "--url", env.url, "--token", env.token]);
    try {
      await publishCrash(env);
      await watch.waitFor(" resolved ");
      watch.signal("SIGINT");
      assert.is(await watch.exitCode(), 0, watch.output());
      const lines = watch.output().trim().split("\n");
      assert.is(lines.filter((l) => / (firing|resolved) /.test(l)).length, 2, watch.output());
      assert.match(watch.output(), /troupe watch: SIGINT: 2 incident changes shown\n/);
    } finally {
      watch.signal("SIGKILL");
      stage.stop();
    }
  });
});

const SPREAD = join(ROOT, "examples", "spread", "spread.ts");

/** A break of the spread example's kind (a user's kind), of strength `z` sd, on pair SYM001-SYM002. */
function spreadBreak(z: number, ts = TS): Uint8Array {
  return encodeEventEnvelope({ id: `s-${z}-${ts}`, type: "spread_break", src: "t", ts }, {
    type: "spread_break",
    ts,
    pair: "SYM001-SYM002",
    spread: 0.25,
    mean: 0.01,
    z,
  });
}

test("troupe watch shows a user's kind's findings as troupe's own: kind, channel, severity, strength", async () => {
  await withGateway(async (env) => {
    const watch = startTroupe([
      "watch",
      "--url",
      env.url,
      "--token",
      env.token,
      "--kind-modules",
      SPREAD,
      "--findings",
      "--json",
      "--kinds",
      "spread_break",
      "--min-severity",
      "3",
      "--count",
      "1",
    ]);
    try {
      await waitFor(
        () => env.collab.stream!.stats().subscriptions === 1,
        60_000,
        "watch to subscribe",
      );
      env.pub.publish("troupe.finding.spread_break.SYM001-SYM002", spreadBreak(5.5)); // severity 2
      env.pub.publish("troupe.finding.spread_break.SYM001-SYM002", spreadBreak(-9, TS + 1)); // severity 4
      await env.pub.flush();
      assert.is(await watch.exitCode(), 0, watch.output());
      const f = JSON.parse(watch.output().trim());
      assert.equal([f.kind, f.channel, f.severity, f.strength], [
        "spread_break",
        "SYM001-SYM002",
        4,
        "z -9 sd",
      ]);
      assert.is(f.subject, "troupe.finding.spread_break.SYM001-SYM002");
      assert.match(f.what, "spread 0.25, mean 0.01");
    } finally {
      watch.signal("SIGKILL");
    }
  });
});

test("troupe watch shows a user's kind's incidents, its modules named by troupe up in collab.json", async () => {
  // The test's process knows the kind's findings as the incident stage beside a host does.
  await import(SPREAD);
  await withGateway(async (env) => {
    const dir = tempDir();
    const stage = runIncidentStage(env.pub, { config: defaultIncidentConfig });
    writeFileSync(
      join(dir.path, "collab.json"),
      JSON.stringify({
        stream: env.url,
        dashboard: "http://127.0.0.1:1/",
        session: "main",
        token: env.token,
        exp: 0,
        kinds: [SPREAD],
      }),
    );
    const watch = startTroupe(["watch", "--data-dir", dir.path, "--count", "1"]);
    try {
      await waitFor(
        () => env.collab.stream!.stats().subscriptions === 1,
        60_000,
        "watch to subscribe",
      );
      env.pub.publish("troupe.finding.spread_break.SYM001-SYM002", spreadBreak(13));
      env.pub.publish(
        "troupe.finding.spread_break.SYM003-SYM004",
        spreadBreak(5.5, TS + 120_000_000),
      );
      await env.pub.flush();
      assert.is(await watch.exitCode(), 0, watch.output());
      assert.match(
        watch.output(),
        /firing {3}spread_break 1 channel: SYM001-SYM002 {2}\[severity 5, 1 finding\]/,
        watch.output(),
      );
    } finally {
      watch.signal("SIGKILL");
      stage.stop();
      dir.remove();
    }
  });
});

test("troupe watch names a refused token and exits 1; usage errors exit 2", async () => {
  await withGateway(async (env) => {
    const r = await runTroupe(["watch", "--url", env.url, "--token", "nope.nope"]);
    assert.is(r.code, 1, r.stderr);
    assert.match(r.stderr, /cannot connect to ws:\/\/127\.0\.0\.1:\d+\/stream \(HTTP 401: Token/);
  });
  for (
    const [args, why] of [
      [["--min-severity", "6"], /--min-severity must be <= 5, got "6"/],
      [["--min-severity", "0.5"], /--min-severity must be a whole number, got "0.5"/],
      [["--kinds", "anomaly,weather"], /got "weather"/],
      [["--url", "http://x/stream", "--token", "t"], /--url must be ws:\/\/HOST:PORT\/stream/],
      [["--channel", "a.b"], /--channel must be a glob without dots/],
      // It once answered "pass --url ... and --token T" to a user who had passed --url.
      [["--url", "ws://127.0.0.1:1/stream"], /--url ws:\/\/127\.0\.0\.1:1\/stream needs --token T/],
      [["--url", "nowhere"], /--url must be ws:\/\/HOST:PORT\/stream, got "nowhere"/],
    ] as const
  ) {
    const dir = tempDir();
    const r = await runTroupe(["watch", "--data-dir", dir.path, ...args]);
    dir.remove();
    assert.is(r.code, 2, r.stderr);
    assert.match(r.stderr, why);
  }
});

test("next to troupe up, troupe watch needs no options: up writes its gateway and a viewer token", async () => {
  const dir = tempDir();
  const dataDir = join(dir.path, "d");
  const up = startTroupe(upArgs(dataDir, ["--no-nats", "--duration", "60", "--channels", "4"]));
  try {
    await up.waitFor("troupe watch");
    assert.match(up.output(), /dashboard http:\/\/127\.0\.0\.1:\d+\/\?session=main&token=\S+\n/);
    assert.match(up.output(), /troupe token --session main --role viewer\|editor/);
    const r = await runTroupe(["watch", "--data-dir", dataDir, "--json", "--count", "1"], {
      timeoutMs: 45_000,
    });
    assert.is(r.code, 0, r.stderr);
    const f = JSON.parse(r.stdout.trim());
    assert.ok(["anomaly", "collapse", "coherence"].includes(f.kind), r.stdout);
  } finally {
    up.signal("SIGINT");
    assert.is(await up.exited, 0, up.output());
    dir.remove();
  }
});

if (run) test.run();

/**
 * `troupe bench fleet`, tiny: a real nats-server with JetStream and real `troupe run --partitions
 * auto` hosts (two, then one) fed by remote write; its rows agree with each other (nothing lost
 * in either arm, the fleet's memory summed over its hosts, the same requests to both arms), and
 * a wrong option is a usage error naming it. No speed is asserted.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { runTroupe } from "../_support/cli.ts";
import { haveNatsServer } from "../_support/nats.ts";

const test = suite("bench fleet");

interface Row {
  metric: string;
  troupe: number;
  baseline: number;
}

if (haveNatsServer("bench fleet")) {
  test("two leased hosts and one answer every channel's samples, and the rows agree", async () => {
    const r = await runTroupe([
      "bench",
      "fleet",
      ...["--hosts", "2", "--channels", "300", "--partitions", "4"],
      ...["--seconds", "4", "--interval-s", "2", "--runs", "1", "--json"],
    ], { timeoutMs: 300_000 });
    assert.is(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as Row[];
    const fig = (m: string) => {
      const x = rows.find((row) => row.metric === m);
      assert.ok(x, `no row ${m} in ${r.stdout}`);
      return x!;
    };
    const lost = [
      "samples_unacknowledged",
      "samples_unanswered",
      "first_samples_unanswered",
      "start_samples_unanswered",
    ];
    for (const m of lost) {
      assert.equal([fig(m).troupe, fig(m).baseline], [0, 0], `${m}\n${r.stderr}`);
    }
    // A first sample answered after the catch-up window is counted late, apart from the lost.
    const late = fig("first_samples_late");
    assert.ok(late.troupe >= 0 && late.baseline >= 0, JSON.stringify(late));
    // Two rounds of 300 channels measured in each arm, each sample acknowledged and answered.
    assert.match(r.stderr, "2 host(s) (partitions 2/2 of 4, round-robin)");
    assert.match(r.stderr, "600 of 600 samples acknowledged, 600 answered");
    assert.match(r.stderr, "1 host(s) (partitions 4 of 4, round-robin)");
    assert.match(r.stderr, /settled: \{"fleet-1":\[\d,\d\],"fleet-2":\[\d,\d\]\}/);
    // The fleet's memory is its two hosts': more than its largest; one host's is its own.
    const rss = fig("rss_mb_summed"), max = fig("rss_mb_host_max");
    assert.ok(rss.troupe > max.troupe && max.troupe > 0, `${rss.troupe} ${max.troupe}`);
    assert.ok(rss.baseline === max.baseline, `${rss.baseline} ${max.baseline}`);
    // The same requests went to both arms: the same bytes a sample on the wire and in the feed.
    for (
      const m of ["wire_bytes_per_sample", "feed_bytes_per_sample", "journal_bytes_per_sample"]
    ) {
      const { troupe, baseline } = fig(m);
      assert.ok(troupe > 0 && Math.abs(troupe - baseline) / baseline < 0.1, `${m} ${troupe}`);
    }
    // Stopped after the rounds and started again, each arm answers a new round on every channel.
    const again = new RegExp(
      String.raw`(\d) host\(s\) started again after their stop: receivers up at [0-9.]+ s, ` +
        String.raw`shares settled at [0-9.]+ s, (\d+) of (\d+) instances back ` +
        String.raw`\(0 recovering\) at [0-9.]+ s, a new round answered on 300 of 300 channels`,
      "g",
    );
    const starts = [...r.stderr.matchAll(again)];
    assert.equal(starts.map((m) => m[1]).sort(), ["1", "2"], r.stderr);
    for (const m of starts) assert.is(m[2], m[3], m[0]);
    for (
      const m of [
        "host_cpu_us_per_sample",
        "detect_lag_ms_p99",
        "acked_samples_per_s",
        "host_start_s",
      ]
    ) {
      assert.ok(fig(m).troupe > 0 && fig(m).baseline > 0, `${m} ${JSON.stringify(fig(m))}`);
    }
  });
}

test("a fleet of more hosts than partitions is a usage error naming both", async () => {
  const r = await runTroupe(["bench", "fleet", "--hosts", "4", "--partitions", "3"]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, "Option --partitions must be at least --hosts (4)");
  assert.match(r.stderr, "got 3");
  assert.not.match(r.stderr, "    at ");
});

test("an unknown balance is a usage error naming the value and the choices", async () => {
  const r = await runTroupe(["bench", "fleet", "--balance", "random"]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, "--balance");
  assert.match(r.stderr, "random");
  assert.match(r.stderr, "round-robin");
});

test.run();

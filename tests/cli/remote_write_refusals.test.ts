/**
 * A `troupe run` host's receiver refuses, with 400 naming them, the samples the host could not
 * take (a time past 2100) or that would hold their series back (a time a day ahead of the
 * clock), before anything is journaled for them: the good series of the same request reach the
 * actors (the host's edge does not dead-letter their batch), and the series goes on.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { connect } from "@nats-io/transport-node";
import { encodeWriteRequest, snappyCompress } from "../../protocol/prometheus/mod.ts";
import { startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { receiverUrl } from "./_remote_write_run.ts";
import { writeStatsOnlyConfig } from "./_stats_only_config.ts";

const test = suite("cli run remote_write refusals");

const series = (name: string, samples: Array<[number, number]>) => ({
  labels: [{ name: "__name__", value: name }, { name: "job", value: "node" }],
  samples: samples.map(([timestamp, value]) => ({ value, timestamp })),
});

if (haveNatsServer("cli run remote_write refusals")) {
  test("samples past 2100 or a day ahead are refused with 400; the request's good series reach the actors", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const nc = await connect({ servers: nats.url });
    const stats = new Map<string, number>();
    nc.subscribe("troupe.out.stats.>", {
      callback: (_e, m) => {
        const channel = m.subject.slice("troupe.out.stats.".length);
        stats.set(channel, (stats.get(channel) ?? 0) + 1);
      },
    });
    const until = async (what: () => boolean, ms: number) => {
      for (const t = Date.now(); !what() && Date.now() - t < ms;) {
        await new Promise((res) => setTimeout(res, 50));
      }
    };
    try {
      const path = writeStatsOnlyConfig(dir.path, {
        hostId: "refusals",
        nats: nats.url,
        extra: { input: "jetstream", remote_write: { port: 0 } },
      });
      const run = startTroupe(["run", "--config", path]);
      try {
        await run.waitFor("send_interval", 60_000);
        const url = receiverUrl(run.output());
        const now = Date.now();
        const body = snappyCompress(encodeWriteRequest({
          timeseries: [
            series("good_gauge", [[now - 60_000, 1]]),
            series("year_3000", [[32503680000000, 2]]),
            series("ahead_gauge", [[now - 60_000, 3], [now + 86_400_000, 4]]),
          ],
        })) as Uint8Array<ArrayBuffer>;
        const r = await fetch(url, { method: "POST", body });
        const text = await r.text();
        assert.is(r.status, 400, text);
        assert.match(text, /2 refused \(2 samples of the request journaled\)/);
        assert.match(
          text,
          'timeseries[1] year_3000{job="node"} sample 0: timestamp 32503680000000',
        );
        assert.match(text, 'timeseries[2] ahead_gauge{job="node"} sample 1');
        assert.match(text, "ahead of the receiver's clock");
        await until(() => stats.has("node-good_gauge") && stats.has("node-ahead_gauge"), 20_000);
        assert.equal([...stats.keys()].sort(), ["node-ahead_gauge", "node-good_gauge"]);
        // The series refused a day ahead goes on with its next sample.
        const next = snappyCompress(encodeWriteRequest({
          timeseries: [series("ahead_gauge", [[now - 30_000, 5]])],
        })) as Uint8Array<ArrayBuffer>;
        const n = await fetch(url, { method: "POST", body: next });
        assert.is(n.status, 204, await n.text());
        await until(() => stats.get("node-ahead_gauge") === 2, 20_000);
        assert.is(stats.get("node-ahead_gauge"), 2);
        run.signal("SIGINT");
        assert.is(await run.exited, 0, run.output());
        assert.not.match(run.output(), /dead-letter|must be a time|must be an integer/);
      } finally {
        run.signal("SIGKILL");
      }
    } finally {
      await nc.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();

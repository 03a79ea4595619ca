/**
 * A `troupe run` host's receiver and its edge agree on the channels admitted, across a restart:
 * the receiver counts those it admitted before (their record is the channel labels bucket) under
 * the host's `limits.channels_max`, so it answers 400 for a new series past the limit rather than
 * 204 for samples the host would then dead-letter; a series none of whose samples was taken holds
 * no place.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { connect } from "@nats-io/transport-node";
import { encodeWriteRequest, snappyCompress } from "../../protocol/prometheus/mod.ts";
import { startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { receiverUrl } from "./_remote_write_run.ts";
import { writeStatsOnlyConfig } from "./_stats_only_config.ts";

const test = suite("cli run remote_write channel record");

/** A request of one sample of `up{instance=...}` per instance, `value` at `t` (ms). */
function ups(instances: string[], value: number, t: number): Uint8Array<ArrayBuffer> {
  return snappyCompress(encodeWriteRequest({
    timeseries: instances.map((instance) => ({
      labels: [
        { name: "__name__", value: "up" },
        { name: "instance", value: instance },
        { name: "job", value: "node" },
      ],
      samples: [{ value, timestamp: t }],
    })),
  })) as Uint8Array<ArrayBuffer>;
}

if (haveNatsServer("cli run remote_write channel record")) {
  test("after a restart at the channel limit, no 204 for a series the host would dead-letter", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const nc = await connect({ servers: nats.url });
    const seen = new Set<string>();
    nc.subscribe("troupe.out.stats.>", {
      callback: (_e, m) => void seen.add(m.subject.slice("troupe.out.stats.".length)),
    });
    const until = async (what: () => boolean, ms: number) => {
      for (const t = Date.now(); !what() && Date.now() - t < ms;) {
        await new Promise((res) => setTimeout(res, 50));
      }
    };
    try {
      const path = writeStatsOnlyConfig(dir.path, {
        hostId: "record",
        nats: nats.url,
        extra: { input: "jetstream", limits: { channels_max: 3 }, remote_write: { port: 0 } },
      });
      const t0 = Date.now() - 60_000;
      const first = startTroupe(["run", "--config", path]);
      try {
        await first.waitFor("send_interval", 60_000);
        const url = receiverUrl(first.output());
        // "a" brings only a NaN: refused, it takes no place; "b" and "c" take two of three.
        const nan = await fetch(url, { method: "POST", body: ups(["a"], NaN, t0) });
        assert.is(nan.status, 400, await nan.text());
        const bc = await fetch(url, { method: "POST", body: ups(["b", "c"], 1, t0) });
        assert.is(bc.status, 204, await bc.text());
        await until(() => seen.has("b-node-up") && seen.has("c-node-up"), 20_000);
        assert.equal([...seen].sort(), ["b-node-up", "c-node-up"]);
        first.signal("SIGINT");
        assert.is(await first.exited, 0, first.output());
      } finally {
        first.signal("SIGKILL");
      }
      const second = startTroupe(["run", "--config", path]);
      try {
        await second.waitFor("send_interval", 60_000);
        const url = receiverUrl(second.output());
        const answers: Record<string, number> = {};
        for (const instance of ["d", "e", "f"]) {
          const r = await fetch(url, { method: "POST", body: ups([instance], 1, t0 + 1000) });
          answers[instance] = r.status;
          const text = await r.text();
          if (r.status === 400) assert.match(text, /past the limit of 3 channels/);
        }
        // The host has b and c: d is the third; e and f are refused at the receiver.
        assert.equal(answers, { d: 204, e: 400, f: 400 });
        await until(() => seen.has("d-node-up"), 20_000);
        assert.equal([...seen].sort(), ["b-node-up", "c-node-up", "d-node-up"]);
        // Every series answered 204 reached its actors; none was dead-lettered at the edge.
        const metrics = await (await fetch(url.replace("/api/v1/write", "/metrics"))).text();
        assert.match(metrics, /troupe_ingest_channels 3/);
        second.signal("SIGINT");
        assert.is(await second.exited, 0, second.output());
        assert.not.match(second.output(), /over this host's limit/);
      } finally {
        second.signal("SIGKILL");
      }
    } finally {
      await nc.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();

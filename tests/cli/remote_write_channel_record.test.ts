/**
 * A `troupe run` host's receiver and its edge agree on the channels admitted, across a restart:
 * the receiver counts those it admitted before (their record is the channel labels bucket) under
 * the host's `limits.channels_max`, so it answers 400 for a new series past the limit rather than
 * 204 for samples the host would then dead-letter; a series none of whose samples was taken holds
 * no place. Two label sets that make one channel name keep their names across the restart,
 * whichever comes first.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { connect } from "@nats-io/transport-node";
import { encodeWriteRequest, snappyCompress } from "../../protocol/prometheus/mod.ts";
import { openChannelLabels } from "../../actors/ingest/mod.ts";
import { NatsBus } from "../../actors/runtime/mod.ts";
import { startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { receiverUrl } from "./_remote_write_run.ts";
import { writeStatsOnlyConfig } from "./_stats_only_config.ts";

const test = suite("cli run remote_write channel record");

/** A request of one sample of `m{a=...}`, `value` at `t` (ms). */
function m(a: string, value: number, t: number): Uint8Array<ArrayBuffer> {
  return snappyCompress(encodeWriteRequest({
    timeseries: [{
      labels: [{ name: "__name__", value: "m" }, { name: "a", value: a }],
      samples: [{ value, timestamp: t }],
    }],
  })) as Uint8Array<ArrayBuffer>;
}

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
    let hashed: string | undefined;
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
        extra: { input: "jetstream", limits: { channels_max: 5 }, remote_write: { port: 0 } },
      });
      const t0 = Date.now() - 60_000;
      const first = startTroupe(["run", "--config", path]);
      try {
        await first.waitFor("send_interval", 60_000);
        const url = receiverUrl(first.output());
        // "a" brings only a NaN: refused, it takes no place; "b" and "c" take two of five.
        const nan = await fetch(url, { method: "POST", body: ups(["a"], NaN, t0) });
        assert.is(nan.status, 400, await nan.text());
        const bc = await fetch(url, { method: "POST", body: ups(["b", "c"], 1, t0) });
        assert.is(bc.status, 204, await bc.text());
        // Two label sets of one readable name, "x.y" first: it is x_y-m, "x_y" the hashed form.
        for (const a of ["x.y", "x_y"]) {
          const r = await fetch(url, { method: "POST", body: m(a, 1, t0) });
          assert.is(r.status, 204, await r.text());
        }
        await until(() => seen.size === 4, 20_000);
        hashed = [...seen].find((c) => /^x_y-[0-9a-f]{8}-m$/.test(c));
        assert.ok(hashed, [...seen].join(", "));
        assert.equal([...seen].sort(), ["b-node-up", "c-node-up", hashed!, "x_y-m"].sort());
        first.signal("SIGINT");
        assert.is(await first.exited, 0, first.output());
      } finally {
        first.signal("SIGKILL");
      }
      const second = startTroupe(["run", "--config", path]);
      try {
        await second.waitFor("send_interval", 60_000);
        const url = receiverUrl(second.output());
        // "x_y" first this time: each label set keeps its name.
        for (const a of ["x_y", "x.y"]) {
          const r = await fetch(url, { method: "POST", body: m(a, 2, t0 + 1000) });
          assert.is(r.status, 204, await r.text());
        }
        const answers: Record<string, number> = {};
        for (const instance of ["d", "e", "f"]) {
          const r = await fetch(url, { method: "POST", body: ups([instance], 1, t0 + 1000) });
          answers[instance] = r.status;
          const text = await r.text();
          if (r.status === 400) assert.match(text, /past the limit of 5 channels/);
        }
        // The host has four: d is the fifth; e and f are refused at the receiver.
        assert.equal(answers, { d: 204, e: 400, f: 400 });
        await until(() => seen.has("d-node-up"), 20_000);
        assert.is(seen.size, 5, [...seen].join(", "));
        // Every series answered 204 reached its actors; none was dead-lettered at the edge.
        const metrics = await (await fetch(url.replace("/api/v1/write", "/metrics"))).text();
        assert.match(metrics, /troupe_ingest_channels 5/);
        const book = await openChannelLabels(NatsBus.wrap(nc), { read: true });
        try {
          const a = (c: string) => book.get(c)?.find((l) => l.name === "a")?.value;
          assert.is(a("x_y-m"), "x.y");
          assert.is(a(hashed!), "x_y");
        } finally {
          await book.close();
        }
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

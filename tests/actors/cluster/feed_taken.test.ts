/**
 * `feedTaken`, against a real nats-server and a leased host reading its feed from the stream: a
 * burst published faster than the host takes it is waited for until every partition has been
 * delivered the stream's last message, and the host then stops having applied every frame; asked
 * with no time to wait while frames are still to come, it says how far behind, and a partition no
 * host holds counts as not taken.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { ACTOR_KINDS } from "../../../actors/mod.ts";
import { feedTaken } from "../../../actors/cluster/mod.ts";
import {
  defaultHostConfig,
  FEED_STREAM,
  type HostConfig,
  launchLeasedHost,
  type LeaseSettings,
  leaseSettings,
  type NatsBus,
} from "../../../actors/runtime/mod.ts";
import { encodeFrame, feedSubject } from "../../../protocol/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../../_support/nats.ts";

const test = suite("feedTaken");
const it = haveNatsServer("feedTaken") ? test : test.skip;

const CHANNELS = 16;
const FRAMES = 250; // a channel's

function frame(ch: string, f: number): Uint8Array {
  const t = Float64Array.from({ length: 4 }, (_, i) => 1_700_000_000_000_000 + (f * 4 + i) * 1000);
  return encodeFrame({ channel: ch, seq0: f * 4, t, v: t.map((x) => Math.sin(x / 1e6)) }, {
    id: `${ch}-${f}`,
    src: "test",
  });
}

async function until(what: string, done: () => boolean) {
  for (const t0 = Date.now(); !done();) {
    if (Date.now() - t0 > 20_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

it("waits until every partition has been delivered the feed stream's last message", async () => {
  const nats = await startTestNats();
  const dir = tempDir();
  const config = defaultHostConfig() as HostConfig & { partitions: { leases: LeaseSettings } };
  Object.assign(config, {
    host_id: "drain",
    nats: nats.url,
    data_dir: join(dir.path, "drain"),
    input: "jetstream",
    journal: { ...config.journal, kind: "jetstream" },
    snapshots: { ...config.snapshots, store: "kv" },
    partitions: { count: 2, owned: [], leases: leaseSettings(5000) },
    http_port: undefined,
    actors: { stats: { every_samples: 1000 } },
  });
  const host = await launchLeasedHost(config, ACTOR_KINDS, { log: () => {} });
  try {
    await until("both partitions held", () => host.partitions.size === 2);
    const nc = (host.bus as NatsBus).nc;
    const js = jetstream(nc);
    const acks = [];
    for (let f = 0; f < FRAMES; f++) {
      for (let c = 0; c < CHANNELS; c++) {
        acks.push(js.publish(feedSubject("t", `c${c}`), frame(`c${c}`, f)));
      }
    }
    await Promise.all(acks);
    const last = (await (await jetstreamManager(nc)).streams.info(FEED_STREAM)).state.last_seq;
    const early = (await feedTaken([host], { partitions: 2, maxMs: 0 })).behind;
    const delivered = () => [...host.partitions.values()].map((p) => p.options.input!.delivered!());
    if (early === 0) assert.ok(delivered().every((d) => d >= last), "nothing behind: all taken");
    else assert.ok(early > 0 && early <= last, `${early} behind`);

    const waits: number[] = [];
    const left = await feedTaken([host], {
      partitions: 2,
      maxMs: 30_000,
      everyMs: 50,
      onWait: (l) => waits.push(l.behind),
    });
    assert.equal(left, { behind: 0, unheld: 0 });
    for (const d of delivered()) assert.ok(d >= last, `delivered ${d} of ${last}`);
    assert.ok(waits.every((n) => n > 0), "told only while behind");

    // A partition no host holds is still to be taken.
    const unheld = await feedTaken([host], { partitions: 3, maxMs: 0 });
    assert.equal(unheld, { behind: 0, unheld: 1 });

    // The stop applies what was delivered: every frame, once.
    const stats = [...host.partitions.values()];
    await host.close();
    let applied = 0;
    for (const p of stats) {
      for (const i of p.instances()) if (i.stream.startsWith("stats/")) applied += i.pos - 1;
    }
    assert.is(applied, FRAMES * CHANNELS);
  } finally {
    await host.close();
    await nats.cleanup();
    dir.remove();
  }
});

test.run();

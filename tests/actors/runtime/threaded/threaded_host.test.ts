/**
 * A host on several worker threads (`troupe run --threads N`), against a real nats-server: the
 * same frames make the same outputs, byte for byte and in order per channel, whether one thread
 * or two run the partitions; each thread journals its own partitions and recovers them after a
 * restart; /healthz and /metrics speak for every thread (and /healthz for the edge's connection),
 * the channels against the limit as one host's, each thread admitting its share; a data directory
 * written for one thread count is refused for another, naming both.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ACTOR_KINDS, ACTOR_KINDS_MODULE } from "../../../../actors/mod.ts";
import {
  defaultHostConfig,
  type HostConfig,
  launchHost,
  NatsServer,
  partitionOf,
  THREAD_YOUNG_GENERATION_MB,
  threadChannelShare,
  ThreadedHost,
} from "../../../../actors/runtime/mod.ts";
import { encodeFrame, feedSubject, SUBJECT_ROOT } from "../../../../protocol/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../../../_support/nats.ts";

const test = suite("threaded host");

const CHANNELS = ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7"];
const BATCH = 20;

function hostConfig(nats: string, dataDir: string): HostConfig {
  const config = defaultHostConfig();
  config.host_id = "th";
  config.nats = nats;
  config.data_dir = dataDir;
  config.partitions = { count: 8, owned: [0, 1, 2, 3, 4, 5, 6, 7] };
  config.snapshots = { store: "file", every_inputs: 7, every_ms: 60_000 };
  config.actors = { stats: { every_samples: BATCH } };
  return config;
}

/** Frames `from` to `to` (exclusive) of every channel of `channels`. */
async function publish(
  nc: NatsConnection,
  from: number,
  to: number,
  channels: readonly string[] = CHANNELS,
): Promise<void> {
  for (let f = from; f < to; f++) {
    for (const ch of channels) {
      const t = new Float64Array(BATCH).map((_, i) =>
        1_700_000_000_000_000 + (f * BATCH + i) * 1000
      );
      const v = new Float64Array(BATCH).map((_, i) => Math.sin(f * 7 + i + ch.charCodeAt(1)));
      nc.publish(
        feedSubject("th", ch),
        encodeFrame({ channel: ch, seq0: f * BATCH, t, v }, { id: `${ch}-${f}`, src: "test" }),
      );
    }
  }
  await nc.flush();
}

/** Every output, as hex, by subject, in the order received. */
function collect(
  nc: NatsConnection,
): { bySubject: Map<string, string[]>; count(): number; stop(): void } {
  const bySubject = new Map<string, string[]>();
  let n = 0;
  const sub = nc.subscribe(`${SUBJECT_ROOT}.out.>`, {
    callback: (_err, msg) => {
      const list = bySubject.get(msg.subject) ?? [];
      list.push(Buffer.from(msg.data).toString("hex"));
      bySubject.set(msg.subject, list);
      n++;
    },
  });
  return { bySubject, count: () => n, stop: () => sub.unsubscribe() };
}

async function until(what: string, ms: number, done: () => boolean | Promise<boolean>) {
  const t0 = Date.now();
  while (!(await done())) {
    if (Date.now() - t0 > ms) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

if (haveNatsServer("threaded host")) {
  test("two threads make the outputs one thread makes of the same frames, journal their own partitions, recover them, and report as one host", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const nc = await connect({ servers: nats.url });
    try {
      // One thread: the reference.
      const one = await launchHost(hostConfig(nats.url, join(dir.path, "one")), ACTOR_KINDS, {
        log: () => {},
      });
      const ref = collect(nc);
      await nc.flush();
      await publish(nc, 0, 30);
      await until("one thread's outputs", 20_000, () => ref.count() >= 30 * CHANNELS.length);
      await one.close();
      await nc.flush();
      ref.stop();

      // Two threads, fresh data directory, the same frames; then a restart and more frames.
      const config = hostConfig(nats.url, join(dir.path, "two"));
      config.http_port = 0;
      let two = await ThreadedHost.start(config, 2, { kinds: ACTOR_KINDS_MODULE, log: () => {} });
      assert.is(two.threads, 2);
      const got = collect(nc);
      await nc.flush();
      await publish(nc, 0, 20);
      await until("two threads' outputs", 20_000, () => got.count() >= 20 * CHANNELS.length);
      assert.ok(two.applied("stats", 0) > 0, "thread 0 applied inputs");
      assert.ok(two.applied("stats", 1) > 0, "thread 1 applied inputs");
      assert.is(two.applied("stats"), 20 * CHANNELS.length);

      const port = two.httpPort!;
      await until("every thread healthy", 10_000, async () => {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        await res.body?.cancel();
        return res.status === 200;
      });
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, /troupe_inputs_total\{[^}]*host="th-t0"/);
      assert.match(metrics, /troupe_inputs_total\{[^}]*host="th-t1"/);
      assert.is(metrics.match(/^# HELP troupe_inputs_total /gm)?.length, 1);

      await two.close();
      assert.ok(existsSync(join(config.data_dir, "thread-0", "journal")));
      assert.ok(existsSync(join(config.data_dir, "thread-1", "journal")));
      two = await ThreadedHost.start(config, 2, { kinds: ACTOR_KINDS_MODULE, log: () => {} });
      await publish(nc, 20, 30);
      await until("outputs after the restart", 20_000, () => got.count() >= 30 * CHANNELS.length);
      await two.close();
      await nc.flush();

      assert.equal([...got.bySubject.keys()].sort(), [...ref.bySubject.keys()].sort());
      for (const [subject, outs] of ref.bySubject) {
        assert.equal(got.bySubject.get(subject), outs, `outputs on ${subject}`);
      }
    } finally {
      await nc.close();
      await nats.cleanup();
      dir.remove();
    }
  });

  test("a threaded host's /healthz is 503 naming the edge while the feed's NATS connection is down, 200 again once it is back", async () => {
    const first = await startTestNats();
    let nats: NatsServer = first;
    const dir = tempDir();
    let host: ThreadedHost | undefined;
    try {
      const config = hostConfig(nats.url, dir.path);
      config.http_port = 0;
      host = await ThreadedHost.start(config, 2, { kinds: ACTOR_KINDS_MODULE, log: () => {} });
      const url = `http://127.0.0.1:${host.httpPort}/healthz`;
      const health = async () => {
        const res = await fetch(url);
        return { status: res.status, body: await res.json() as { reasons: string[] } };
      };
      await until("healthy", 10_000, async () => (await health()).status === 200);
      await nats.stop();
      await until("the edge's disconnect seen", 10_000, async () => {
        const h = await health();
        return h.status === 503 && h.body.reasons.some((r) => r.startsWith("edge: "));
      });
      nats = await NatsServer.start(first.options);
      await until("healthy again", 20_000, async () => (await health()).status === 200);
    } finally {
      await host?.close();
      await nats.stop().catch(() => {});
      await first.cleanup();
      dir.remove();
    }
  });

  test("a threaded host's /healthz and /metrics give its channels as one host's: each thread admits its share of the limit, the host the sums", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const nc = await connect({ servers: nats.url });
    let host: ThreadedHost | undefined;
    try {
      const config = hostConfig(nats.url, dir.path);
      config.http_port = 0;
      config.limits.channels_max = 12;
      // Each thread owns four of the eight partitions: half the host's limit each.
      assert.equal([0, 1].map((i) => threadChannelShare(config, i, 2)), [6, 6]);
      assert.equal([0, 1, 2].map((i) => threadChannelShare(config, i, 3)), [5, 4, 3]);
      host = await ThreadedHost.start(config, 2, { kinds: ACTOR_KINDS_MODULE, log: () => {} });
      const port = host.httpPort!;
      const room = async () =>
        (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()).channels as
          | { admitted: number; max: number; free: number }
          | undefined;
      const series = async () => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        const figure = (name: string, host: string) =>
          Number(new RegExp(`^${name}\\{host="${host}"\\} (\\S+)$`, "m").exec(text)?.[1]);
        return { text, figure };
      };
      // c0-c7 fall four on each thread's partitions (partitionOf): all admitted.
      assert.equal(
        [0, 1].map((i) => CHANNELS.filter((c) => partitionOf(c, 8) % 2 === i).length),
        [4, 4],
      );
      await publish(nc, 0, 1);
      await until("eight channels admitted", 20_000, async () => (await room())?.admitted === 8);
      assert.equal(await room(), { admitted: 8, max: 12, free: 4 });
      let m = await series();
      assert.is(m.figure("troupe_channels", "th"), 8);
      assert.is(m.figure("troupe_channels_max", "th"), 12);
      assert.is(m.figure("troupe_channels_free", "th"), 4);
      assert.is(m.figure("troupe_channel_frames_refused_total", "th"), 0);
      assert.is(m.text.match(/^# HELP troupe_channels_free /gm)?.length, 1);
      assert.not.match(m.text, /^troupe_channels\{host="th-t\d"\}/m, "no thread's own series");
      // Six more, three on each thread: each admits two to its six, and refuses its seventh.
      const more = ["c8", "c9", "c10", "c11", "c12", "c13"];
      assert.equal([0, 1].map((i) => more.filter((c) => partitionOf(c, 8) % 2 === i).length), [
        3,
        3,
      ]);
      await publish(nc, 0, 1, more);
      await until("the seventh channels refused", 20_000, async () => {
        const r = await series();
        return r.figure("troupe_channel_frames_refused_total", "th") === 2;
      });
      m = await series();
      assert.is(m.figure("troupe_channels", "th"), 12);
      assert.is(m.figure("troupe_channels_free", "th"), 0);
      await until("/healthz says the host is full", 20_000, async () => (await room())?.free === 0);
      assert.equal(await room(), { admitted: 12, max: 12, free: 0 });
    } finally {
      await host?.close();
      await nc.close();
      await nats.cleanup();
      dir.remove();
    }
  });

  test("a threaded host counts a channel once, on the thread its own instances live on: coherence's group on another thread takes it without counting it", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const nc = await connect({ servers: nats.url });
    let host: ThreadedHost | undefined;
    try {
      const config = hostConfig(nats.url, dir.path);
      config.http_port = 0;
      config.actors = { stats: { every_samples: BATCH }, coherence: {} };
      // Four channels on each thread's partitions, each thread's share four of the eight; the one
      // coherence group, `all`, lives on one of the two threads and takes all eight channels.
      config.limits.channels_max = 8;
      host = await ThreadedHost.start(config, 2, { kinds: ACTOR_KINDS_MODULE, log: () => {} });
      const port = host.httpPort!;
      const refused = async () => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return Number(/^troupe_channel_frames_refused_total\{host="th"\} (\S+)$/m.exec(text)?.[1]);
      };
      await publish(nc, 0, 3);
      await until("every channel admitted", 20_000, async () => {
        const h = await (await fetch(`http://127.0.0.1:${port}/healthz`)).json();
        return h.channels?.admitted === 8;
      });
      await until("coherence inputs applied", 20_000, () => host!.applied("coherence") > 0);
      await until("stats of every channel", 20_000, () => host!.applied("stats") >= 8 * 3);
      assert.is(await refused(), 0, "no frame refused: the group's thread did not count them");
      const h = await (await fetch(`http://127.0.0.1:${port}/healthz`)).json();
      assert.equal(h.channels, { admitted: 8, max: 8, free: 0 });
    } finally {
      await host?.close();
      await nc.close();
      await nats.cleanup();
      dir.remove();
    }
  });

  test("a threaded host routes frames by each kind's parsed configuration (coherence's groups from an empty section)", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const nc = await connect({ servers: nats.url });
    let host: ThreadedHost | undefined;
    try {
      const config = hostConfig(nats.url, dir.path);
      // A section given but empty: its defaults (one group of every channel) fill it in.
      config.actors = { coherence: {} };
      host = await ThreadedHost.start(config, 2, { kinds: ACTOR_KINDS_MODULE, log: () => {} });
      await publish(nc, 0, 3);
      await until("coherence inputs applied", 20_000, () => host!.applied("coherence") > 0);
      assert.is(host.dropped, 0);
    } finally {
      await host?.close();
      await nc.close();
      await nats.cleanup();
      dir.remove();
    }
  });

  test("a threaded host runs each thread with a young generation of THREAD_YOUNG_GENERATION_MB", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    let host: ThreadedHost | undefined;
    try {
      host = await ThreadedHost.start(hostConfig(nats.url, dir.path), 2, {
        kinds: ACTOR_KINDS_MODULE,
        log: () => {},
      });
      const limits = host.resourceLimits();
      assert.is(limits.length, 2);
      for (const l of limits) assert.is(l.maxYoungGenerationSizeMb, THREAD_YOUNG_GENERATION_MB);
      // Small, so that scavenges free the frames' buffers (threaded_host.ts); Node's default is 48.
      assert.ok(THREAD_YOUNG_GENERATION_MB <= 4, `${THREAD_YOUNG_GENERATION_MB} MiB`);
    } finally {
      await host?.close();
      await nats.cleanup();
      dir.remove();
    }
  });

  test("ThreadedHost.start() refuses a data directory written for another thread count, naming both", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    try {
      const config = hostConfig(nats.url, dir.path);
      const two = await ThreadedHost.start(config, 2, { kinds: ACTOR_KINDS_MODULE, log: () => {} });
      await two.close();
      const err = await ThreadedHost.start(config, 4, { kinds: ACTOR_KINDS_MODULE, log: () => {} })
        .then(
          () => undefined,
          (e) => e,
        );
      assert.instance(err, Error);
      assert.match(
        (err as Error).message,
        `Cannot run ${dir.path} on 4 threads: its journals were written by 2`,
      );
      // A thread that cannot start (its directory is a file): start() rejects naming the thread,
      // and stops the other.
      const broken = join(dir.path, "broken");
      mkdirSync(broken);
      writeFileSync(join(broken, "thread-1"), "not a directory");
      const err2 = await ThreadedHost.start(hostConfig(nats.url, broken), 2, {
        kinds: ACTOR_KINDS_MODULE,
        log: () => {},
      })
        .then(() => undefined, (e) => e);
      assert.match((err2 as Error).message, /^thread 1: /);
      const lone = await launchHost(hostConfig(nats.url, join(dir.path, "lone")), ACTOR_KINDS, {
        log: () => {},
      });
      await lone.close();
      const err1 = await ThreadedHost.start(hostConfig(nats.url, join(dir.path, "lone")), 2, {
        kinds: ACTOR_KINDS_MODULE,
      })
        .then(() => undefined, (e) => e);
      assert.match((err1 as Error).message, "it holds a one-thread host's journal");
    } finally {
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();

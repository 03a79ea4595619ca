/**
 * Where a command's NATS server comes from when it is given a config file: `troupe record
 * --config` records from the file's `nats`, `--nats` replaces it, and `troupe run --nats` fills in
 * a file whose JetStream input or journal needs one. With two servers running, a recording that
 * holds a message of the wrong one fails.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { encodeFrame, feedSubject } from "../../protocol/mod.ts";
import { RecordingReader } from "../../sim/recording/mod.ts";
import { startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";

const test = suite("commands take NATS from --config");

type Nats = Awaited<ReturnType<typeof startTestNats>>;

/** Publishes a frame every 50 ms on `channel` of feed `cfg` until `stop` settles. */
async function feed(nc: NatsConnection, channel: string, stop: Promise<unknown>): Promise<void> {
  let done = false;
  void stop.then(() => (done = true));
  for (let i = 0; !done; i++) {
    const t = Float64Array.of(1_700_000_000_000_000 + i * 1000);
    nc.publish(
      feedSubject("cfg", channel),
      encodeFrame({ channel, seq0: i, t, v: Float64Array.of(i) }, {
        id: `${channel}-${i}`,
        src: "t",
      }),
    );
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The channels of the feed frames in the recording at `path`. */
async function recordedChannels(path: string): Promise<Set<string>> {
  const channels = new Set<string>();
  const reader = await RecordingReader.open(path);
  for await (const m of reader.messages()) {
    if (m.subject.startsWith("troupe.feed.cfg.")) channels.add(m.subject.split(".").at(-1)!);
  }
  return channels;
}

/** Records for `seconds` with `args` while server a carries channel `a` and b channel `b`. */
async function recordWhileBothFeed(
  servers: [Nats, Nats],
  out: string,
  args: string[],
  seconds: number,
): Promise<{ code: number | null; output: string; elapsedMs: number }> {
  const ncs = await Promise.all(servers.map((s) => connect({ servers: s.url })));
  const t0 = performance.now();
  // In a folder of its own, where no `troupe up` left a nats.url to fall back on.
  const rec = startTroupe(
    ["record", "--out", out, "--duration", String(seconds), ...args],
    dirname(out),
  );
  try {
    const stopped = rec.exited;
    await Promise.all([feed(ncs[0]!, "a", stopped), feed(ncs[1]!, "b", stopped)]);
    const code = await rec.exitCode(30_000);
    return { code, output: rec.output(), elapsedMs: performance.now() - t0 };
  } finally {
    await rec.stop();
    for (const nc of ncs) await nc.close();
  }
}

if (haveNatsServer("commands take NATS from --config")) {
  let a: Nats | undefined, b: Nats | undefined;
  const dir = tempDir("troupe-config-nats-");
  test.before(async () => {
    [a, b] = await Promise.all([startTestNats(), startTestNats()]);
  });
  test.after(async () => {
    await a?.cleanup();
    await b?.cleanup();
    dir.remove();
  });

  test("troupe record --config records from the file's nats only, and --nats replaces it", async () => {
    const config = join(dir.path, "host.json");
    writeFileSync(config, JSON.stringify({ nats: a!.url, actors: { stats: {} } }));
    const fromFile = join(dir.path, "file.rec");
    const r = await recordWhileBothFeed([a!, b!], fromFile, ["--config", config], 2);
    assert.is(r.code, 0, r.output);
    assert.match(r.output, `from ${a!.url} into`);
    assert.equal([...await recordedChannels(fromFile)], ["a"], r.output);

    const fromFlag = join(dir.path, "flag.rec");
    const s = await recordWhileBothFeed(
      [a!, b!],
      fromFlag,
      ["--config", config, "--nats", b!.url],
      2,
    );
    assert.is(s.code, 0, s.output);
    assert.match(s.output, `from ${b!.url} into`);
    assert.equal([...await recordedChannels(fromFlag)], ["b"], s.output);
  });

  // No host answers its state capture here, which takes 6 s: the duration includes it.
  test("troupe record --duration 9 records for 9 s and says so beside the span of its messages", async () => {
    const out = join(dir.path, "duration.rec");
    const r = await recordWhileBothFeed([a!, b!], out, ["--nats", a!.url], 9);
    assert.is(r.code, 0, r.output);
    assert.ok(r.elapsedMs >= 9000, `ended after ${r.elapsedMs} ms`);
    assert.match(r.output, /for 9 s \([5-9]\.\d s of it taken by the state capture\)/);
    const said = /recorded (\d+\.\d) s; messages over (\d+\.\d) s/.exec(r.output);
    assert.ok(said, r.output);
    assert.ok(Number(said![1]) >= 9.0 && Number(said![1]) < 10.0, said![0]);
    assert.ok(Number(said![2]) <= Number(said![1]), said![0]);
  });

  test('troupe run --config with "input": "jetstream" and no "nats" runs with --nats', async () => {
    const config = join(dir.path, "js.json");
    writeFileSync(
      config,
      JSON.stringify({
        input: "jetstream",
        data_dir: join(dir.path, "js-data"),
        actors: { stats: {} },
      }),
    );
    const run = startTroupe(["run", "--config", config, "--nats", a!.url], dir.path);
    try {
      await run.waitFor("host host-1 running");
      assert.not.match(run.output(), 'no "nats" URL');
    } finally {
      await run.stop();
    }
    assert.is(await run.exitCode(20_000), 0, run.output());
  });

  test('troupe run with NATS reads JetStream unless the file says "input": "core", and warns then', async () => {
    const durable = join(dir.path, "durable.json");
    writeFileSync(durable, JSON.stringify({ nats: a!.url, data_dir: join(dir.path, "d1") }));
    const { config: c1 } = await import("../../actors/cluster/mod.ts").then((m) =>
      m.loadHostConfig(durable)
    );
    assert.is(c1.input, "jetstream");
    const core = join(dir.path, "core.json");
    writeFileSync(
      core,
      JSON.stringify({ nats: a!.url, input: "core", host_id: "c", data_dir: join(dir.path, "d2") }),
    );
    const run = startTroupe(["run", "--config", core], dir.path);
    try {
      await run.waitFor("host c running");
      assert.match(run.output(), 'input "core": frames sent while host c is down');
    } finally {
      await run.stop();
    }
  });
}

test.run();

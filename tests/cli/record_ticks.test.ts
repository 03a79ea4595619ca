/**
 * A host's clock ticks in a recorded live session: `troupe run` closes a quiet channel's bars by
 * tick (its own input, journaled, never on the bus) and tells each tick on `troupe.tick.<host>`
 * with the input it came after; `troupe record` keeps the notices, and `troupe replay --verify`,
 * in this thread and on worker threads, applies each tick after that input, so the bars it closed
 * come out with the same ids and values. Against a real nats-server and real `troupe run` and
 * `record` processes, the feed published at the wall clock.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { NatsBus } from "../../actors/runtime/mod.ts";
import {
  decodeEnvelope,
  decodeTickNotices,
  encodeFrame,
  feedSubject,
  tickSubject,
} from "../../protocol/mod.ts";
import { type RunningTroupe, runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { readRecords } from "../_support/recording.ts";

const test = suite("troupe record: a host's clock ticks");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (haveNatsServer("troupe record: a host's clock ticks")) {
  test("the bars a tick closed are recorded with their ticks, and replay --verify makes them again", async () => {
    const nats = await startTestNats();
    const dir = tempDir("troupe-ticks-");
    const off = Object.fromEntries(
      ["stats", "anomaly", "collapse", "coherence"].map((k) => [k, { enabled: false }]),
    );
    const config = join(dir.path, "host.json");
    writeFileSync(
      config,
      JSON.stringify({
        host_id: "ticks",
        nats: nats.url,
        input: "core",
        data_dir: join(dir.path, "data"),
        actors: { ...off, bars: { bar_sizes: ["1s"], close_grace_ms: 200 } },
      }),
    );
    const rec = join(dir.path, "s.rec");
    const recorder = startTroupe(["record", "--out", rec, "--nats", nats.url, "--config", config]);
    let host: RunningTroupe | undefined;
    const bus = await NatsBus.connect(nats.url);
    try {
      await recorder.waitFor("Ctrl-C to stop", 60_000);
      host = startTroupe(["run", "--config", config]);
      await host.waitFor("troupe run: host ticks running", 60_000);
      let seq = 0;
      const send = (channel: string, v: number) => {
        const t = new Float64Array([Date.now() * 1000]);
        const frame = { channel, seq0: seq, t, v: new Float64Array([v]) };
        bus.publish(feedSubject("test", channel), encodeFrame(frame, { id: `f${seq}`, src: "t" }));
        seq++;
      };
      // "quiet" sends in bursts with pauses of 3 s: its bars close by tick; "busy" every 100 ms:
      // its bars close by its next sample.
      for (let burst = 0; burst < 3; burst++) {
        for (let i = 0; i < 30; i++) {
          if (i < 5) send("quiet", burst * 10 + i);
          send("busy", i);
          await sleep(100);
        }
      }
      await sleep(500);
      host.signal("SIGINT");
      assert.is(await host.exitCode(30_000), 0, host.output());
      recorder.signal("SIGINT");
      assert.is(await recorder.exitCode(30_000), 0, recorder.output());

      const records = await readRecords(rec);
      const notices = records
        .filter((m) => m.subject === tickSubject("ticks"))
        .flatMap((m) => decodeTickNotices(m.data));
      const quietTicks = notices.filter((n) => n.stream === "bars/quiet");
      assert.ok(quietTicks.length >= 2, `${quietTicks.length} ticks of bars/quiet told`);
      assert.ok(quietTicks.every((n) => /^f\d+$/.test(n.after ?? "")), JSON.stringify(notices));
      const byTick = records
        .filter((m) => m.subject === "troupe.out.bars.quiet")
        .map((m) => decodeEnvelope(m.data).id)
        .filter((id) => id.startsWith("ticks:tick:"));
      assert.ok(byTick.length >= 2, `${byTick.length} bars of "quiet" closed by a tick`);

      for (const threads of ["1", "2"]) {
        const r = await runTroupe(["replay", rec, "--verify", "--threads", threads], {
          timeoutMs: 90_000,
        });
        assert.is(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, "verified");
        assert.not.match(r.stdout, /clock ticks the live host applied were not/);
      }
    } finally {
      await bus.close();
      await host?.stop();
      await recorder.stop();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();

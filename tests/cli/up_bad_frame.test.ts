/**
 * A frame whose times no stage downstream can take, published on `troupe.feed.*` at a running
 * `troupe up`: it once was journaled, failed anomaly and collapse into the dead letters, then
 * failed bars, and within seconds the whole process died of a TypeError in the ticker (and, run
 * again on the same data directory, died the same way after re-reading the frame). Now the edge
 * refuses it: dead-lettered naming the field and the value, the process and its /healthz carry on.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { decodeDeadLetter } from "../../actors/runtime/edge/dead_letter.ts";
import { encodeFrame, feedSubject } from "../../protocol/mod.ts";
import { startTroupe } from "../_support/cli.ts";
import { haveNatsServer, tempDir } from "../_support/nats.ts";
import { natsServersOn, upArgs, upNatsAuth } from "./_up.ts";
import { natsAuthOptions } from "../../actors/runtime/mod.ts";

const test = suite("troupe up: a bad frame");

/** A frame of two samples at time `t`, encoded as any producer could (ts given apart). */
function frameAt(channel: string, t: number, id: string): Uint8Array {
  const frame = { channel, seq0: 0, t: Float64Array.of(t, t), v: Float64Array.of(1, 2) };
  return encodeFrame(frame, { id, src: "test", ts: 0 });
}

if (haveNatsServer("troupe up: a bad frame")) {
  test("frames at t = 1e300, 1e16 and 2^53 - 1 are dead-lettered at the edge naming body.t[0]; troupe up and its /healthz carry on", async () => {
    const dir = tempDir();
    const dataDir = join(dir.path, "d");
    const up = startTroupe(upArgs(dataDir, ["--channels", "2", "--rate", "200", "--threads", "1"]));
    try {
      await up.waitFor("injecting the synthetic market feed", 120_000);
      const healthz = /(http:\/\/127\.0\.0\.1:\d+)\/healthz/.exec(up.output())![1]!;
      const nc = await connect({
        servers: readFileSync(join(dataDir, "nats.url"), "utf8").trim(),
        ...natsAuthOptions(upNatsAuth(dataDir)),
      });
      try {
        const dead: string[] = [];
        nc.subscribe("troupe.dlq.>", {
          callback: (_e, m) => {
            const d = decodeDeadLetter(m.data);
            dead.push(`${m.subject} ${d.field} ${d.error}`);
          },
        });
        await nc.flush();
        const js = jetstream(nc);
        const times = [1e300, 1e16, Number.MAX_SAFE_INTEGER];
        for (const [i, t] of times.entries()) {
          await js.publish(feedSubject("market", "ZZZ"), frameAt("ZZZ", t, `bad-${i}`));
        }
        for (let i = 0; i < 200 && dead.length < times.length; i++) {
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.is(dead.length, times.length, `${dead.join("\n")}\n${up.output()}`);
        for (const [i, t] of times.entries()) {
          assert.match(dead[i]!, `troupe.dlq.value body.t[0]`);
          assert.match(dead[i]!, String(t));
        }
        // The ticker looks every second: a frame that reached bars ended the process within 5 s.
        await new Promise((r) => setTimeout(r, 3000));
        assert.is(up.child.exitCode, null, up.output());
        assert.is((await fetch(`${healthz}/healthz`)).status, 200);
        assert.not.match(up.output(), "failed to apply");
      } finally {
        await nc.close();
      }
      up.signal("SIGINT");
      assert.is(await up.exitCode(60_000), 0, up.output());
      assert.equal(natsServersOn(join(dataDir, "nats")), [], "no nats-server left");
    } finally {
      await up.stop();
      for (const pid of natsServersOn(join(dataDir, "nats"))) process.kill(pid, "SIGKILL");
      dir.remove();
    }
  });
}

test.run();

/**
 * A host's edge decisions are made once and journaled, against a real `troupe run` process and a
 * real nats-server with JetStream input: with `channels_max` 2, frames of a third and fourth
 * channel are dead-lettered once; after a `kill -9` and a restart they are neither applied nor
 * dead-lettered again, and the limit still counts the channels admitted before the restart.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { ensureFeedStream } from "../../../../actors/runtime/edge/jetstream_input.ts";
import { decodeDeadLetter } from "../../../../actors/runtime/edge/dead_letter.ts";
import { decodeEnvelope, encodeFrame, feedSubject } from "../../../../protocol/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../../../_support/nats.ts";
import { onlyKinds } from "../../../_support/only_kinds.ts";
import { startTroupe } from "../../../_support/cli.ts";
import { segmentsHold } from "../../../_support/journal_files.ts";

const test = suite("edge_decisions");

const BATCH = 10;

function frame(channel: string, f: number): Uint8Array {
  const t = new Float64Array(BATCH), v = new Float64Array(BATCH).fill(f);
  for (let i = 0; i < BATCH; i++) t[i] = 1_700_000_000_000_000 + (f * BATCH + i) * 1000;
  return encodeFrame({ channel, seq0: f * BATCH, t, v }, { id: `${channel}-${f}`, src: "test" });
}

async function until(check: () => boolean, what: () => string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

if (haveNatsServer("edge_decisions")) {
  test("with channels_max 2, frames dead-lettered before a kill -9 are neither applied nor dead-lettered again after the restart", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const nc = await connect({ servers: nats.url });
    let host: ReturnType<typeof startTroupe> | undefined;
    try {
      await ensureFeedStream(nc);
      const js = jetstream(nc);
      const config = join(dir.path, "host.json");
      writeFileSync(
        config,
        JSON.stringify({
          host_id: "edge",
          nats: nats.url,
          data_dir: join(dir.path, "host"),
          input: "jetstream",
          journal: { kind: "file", fsync: "interval", fsync_interval_ms: 20 },
          limits: { channels_max: 2 },
          actors: onlyKinds({ stats: { every_samples: BATCH } }), // an output per frame applied
        }),
      );
      const dead: string[] = [];
      nc.subscribe("troupe.dlq.>", {
        callback: (_e, m) => {
          const letter = decodeDeadLetter(m.data);
          dead.push(`${letter.reason} ${letter.subject}`);
        },
      });
      const applied: string[] = [];
      nc.subscribe("troupe.out.stats.*", {
        callback: (_e, m) => {
          applied.push(decodeEnvelope(m.data).cause!);
        },
      });
      const send = (channel: string, f: number) =>
        js.publish(feedSubject("t", channel), frame(channel, f));
      host = startTroupe(["run", "--config", config]);
      await host.waitFor("troupe run: host edge running");
      await send("a", 0);
      await send("b", 0);
      await until(() => applied.length === 2, () => `applied ${applied}`);
      // The last frames in the stream are the refused ones: past the last journaled frame.
      await send("c", 0);
      await send("d", 0);
      await until(() => dead.length === 2, () => `dead letters ${dead}`);
      assert.equal(dead, ["oversize troupe.feed.t.c", "oversize troupe.feed.t.d"]);
      // Both decisions written out (a kill -9 keeps what is written): the journal writes every
      // 20 ms, but a loaded machine can hold the host back for longer than any fixed wait.
      const journalDir = join(dir.path, "host", "journal");
      await until(
        () => ["c", "d"].every((ch) => segmentsHold(journalDir, feedSubject("t", ch))),
        () => `the decisions in the journal at ${journalDir}`,
      );
      host.signal("SIGKILL");
      await host.exited;

      applied.length = 0;
      host = startTroupe(["run", "--config", config]);
      await host.waitFor("troupe run: host edge running");
      await new Promise((r) => setTimeout(r, 1000)); // time to (wrongly) read them again
      assert.equal(dead.length, 2, `dead-lettered again: ${dead}`);
      assert.ok(!applied.some((c) => c.startsWith("c-") || c.startsWith("d-")), `${applied}`);
      // The limit still counts a and b: a new channel is refused, a and c as before.
      await send("e", 0);
      await send("a", 1);
      await send("c", 1);
      await until(() => dead.length === 4 && applied.includes("a-1"), () => `${dead} / ${applied}`);
      assert.equal(dead.slice(2), ["oversize troupe.feed.t.e", "oversize troupe.feed.t.c"]);
      assert.ok(!applied.some((c) => /^[cde]-/.test(c)), `${applied}`);
      host.signal("SIGTERM");
      assert.is(await host.exited, 0, host.output());
      host = undefined;
    } finally {
      host?.signal("SIGKILL");
      await host?.exited;
      await nc.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();

/**
 * An input the host dies applying (a team's kind that exits the process on it), against a real
 * nats-server with JetStream input and real `troupe run` processes: the host dies on it live, then
 * once more recovering it, and the third start skips it (a skip record in the journal), sends it
 * to `troupe.dlq.crash` naming the instance and the position, and runs on: the crash loop ends by
 * itself. A later start agrees and neither applies it nor dead-letters it again.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import { decodeDeadLetter } from "../../actors/runtime/edge/mod.ts";
import { encodeFrame, feedSubject } from "../../protocol/mod.ts";
import { ROOT, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { DEADLY_EXIT_CODE } from "../_support/deadly_kinds.ts";

const test = suite("troupe run: an input the host dies applying");
const DEADLY = join(ROOT, "tests", "_support", "deadly_kinds.ts");

/** Writes the config of a host running kind "deadly" alone, with JetStream input. */
function writeConfig(dir: string, nats: string): string {
  const path = join(dir, "host.json");
  const off = Object.fromEntries(Object.keys(ACTOR_KINDS).map((k) => [k, { enabled: false }]));
  writeFileSync(
    path,
    JSON.stringify({
      host_id: "px",
      nats,
      input: "jetstream",
      data_dir: join(dir, "data"),
      http_port: 0,
      kinds: [DEADLY],
      actors: { ...off, deadly: {} },
      // On the host's thread, where a step that exits the process takes the host with it.
      supervision: { isolate_user_kinds: false },
    }),
  );
  return path;
}

let seq = 0;

/** Publishes a one-sample frame of value `v` on `channel` of feed "px". */
async function send(nc: NatsConnection, channel: string, v: number): Promise<void> {
  const t = Float64Array.of(1.7e15 + ++seq * 1000);
  nc.publish(
    feedSubject("px", channel),
    encodeFrame({ channel, seq0: seq, t, v: Float64Array.of(v) }, { id: `f${seq}`, src: "test" }),
  );
  await nc.flush();
}

/** Waits until `check` holds, or fails naming `what`. */
async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  for (const t0 = Date.now(); !check();) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

if (haveNatsServer("troupe run: an input the host dies applying")) {
  test("dies twice on the input, then skips it, dead-letters it with reason crash and runs on", async () => {
    const nats = await startTestNats();
    const dir = tempDir("troupe-poison-");
    const nc = await connect({ servers: nats.url });
    const outputs: string[] = [];
    const letters: Array<{ subject: string; letter: ReturnType<typeof decodeDeadLetter> }> = [];
    nc.subscribe("troupe.out.deadly.>", {
      callback: (_e, m) => void outputs.push(m.subject),
    });
    nc.subscribe("troupe.dlq.>", {
      callback: (_e, m) =>
        void letters.push({ subject: m.subject, letter: decodeDeadLetter(m.data) }),
    });
    const config = writeConfig(dir.path, nats.url);
    try {
      let host = startTroupe(["run", "--config", config]);
      await host.waitFor("troupe run: host px running", 60_000);
      await send(nc, "a", 1);
      await send(nc, "b", 2);
      await until(() => outputs.length >= 2, "the outputs of two good frames");
      await send(nc, "a", 666);
      assert.is(await host.exitCode(20_000), DEADLY_EXIT_CODE, host.output());

      // The second start applies the journal's last input again, and dies on it again.
      host = startTroupe(["run", "--config", config]);
      assert.is(await host.exitCode(60_000), DEADLY_EXIT_CODE, host.output());
      assert.not.match(host.output(), "troupe run: host px running");

      // The third skips it: dead-lettered, and the host runs on.
      host = startTroupe(["run", "--config", config]);
      await host.waitFor("troupe run: host px running", 60_000);
      assert.match(
        host.output(),
        /deadly\/a: the host died applying its input at position 3 \(source position 3\) 2 times in a row; skipped, moved to the dead letters/,
      );
      await until(() => letters.length >= 1, "the dead letter");
      assert.is(letters.length, 1, JSON.stringify(letters));
      const { subject, letter } = letters[0]!;
      assert.is(subject, "troupe.dlq.crash");
      assert.is(letter.reason, "crash");
      assert.is(letter.actor, "deadly/a");
      assert.is(letter.subject, feedSubject("px", "a"));
      assert.match(letter.error, "2 times in a row");
      const before = outputs.length;
      await send(nc, "a", 3);
      await until(() => outputs.length > before, "an output of channel a after the skip");
      host.signal("SIGINT");
      assert.is(await host.exitCode(30_000), 0, host.output());

      // A later start agrees: nothing applied again, nothing dead-lettered again.
      host = startTroupe(["run", "--config", config]);
      await host.waitFor("troupe run: host px running", 60_000);
      await send(nc, "b", 4);
      await until(() => outputs.length > before + 1, "an output after a clean restart");
      assert.is(letters.length, 1);
      host.signal("SIGINT");
      assert.is(await host.exitCode(30_000), 0, host.output());
    } finally {
      await nc.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();

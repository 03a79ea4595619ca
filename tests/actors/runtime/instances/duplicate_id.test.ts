/**
 * The same envelope id sent twice is applied once, against real `troupe run` processes and a real
 * nats-server, whatever the input (core NATS, JetStream) and across a restart: the instance keeps
 * a window of recent input ids as part of its state, so outputs never carry one id for two inputs.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ensureFeedStream } from "../../../../actors/runtime/edge/jetstream_input.ts";
import {
  decodeEnvelope,
  encodeFrame,
  type Envelope,
  feedSubject,
} from "../../../../protocol/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../../../_support/nats.ts";
import { onlyKinds } from "../../../_support/only_kinds.ts";
import { startTroupe } from "../../../_support/cli.ts";

const test = suite("duplicate_id");

const BATCH = 10;

/** A frame of `BATCH` samples of value `value`, starting at sample `seq0`, with envelope `id`. */
function frame(id: string, seq0: number, value: number): Uint8Array {
  const t = new Float64Array(BATCH), v = new Float64Array(BATCH).fill(value);
  for (let i = 0; i < BATCH; i++) t[i] = 1_700_000_000_000_000 + (seq0 + i) * 1000;
  return encodeFrame({ channel: "dup", seq0, t, v }, { id, src: "test" });
}

function collect(nc: NatsConnection): Envelope[] {
  const got: Envelope[] = [];
  nc.subscribe("troupe.out.stats.dup", {
    callback: (_e, m) => {
      got.push(decodeEnvelope(m.data));
    },
  });
  return got;
}

async function until(check: () => boolean, what: () => string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

if (haveNatsServer("duplicate_id")) {
  for (const input of ["core", "jetstream"] as const) {
    test(`${input} input: an envelope id sent twice is applied once, also after a restart`, async () => {
      const nats = await startTestNats();
      const dir = tempDir();
      const nc = await connect({ servers: nats.url });
      let host: ReturnType<typeof startTroupe> | undefined;
      try {
        const config = join(dir.path, "host.json");
        writeFileSync(
          config,
          JSON.stringify({
            host_id: "dup",
            nats: nats.url,
            data_dir: join(dir.path, "host"),
            input,
            actors: onlyKinds({ stats: { every_samples: BATCH } }), // an output per frame applied
          }),
        );
        if (input === "jetstream") await ensureFeedStream(nc);
        const js = jetstream(nc);
        const send = async (bytes: Uint8Array) => {
          if (input === "jetstream") await js.publish(feedSubject("test", "dup"), bytes);
          else nc.publish(feedSubject("test", "dup"), bytes);
        };
        const out = collect(nc);
        host = startTroupe(["run", "--config", config]);
        await host.waitFor("troupe run: host dup running");
        await send(frame("a", 0, 1));
        await send(frame("a", BATCH, 100)); // another frame, the same id: not applied
        await send(frame("b", BATCH, 2));
        await until(() => out.length >= 2, () => `outputs ${JSON.stringify(out)}`);
        await new Promise((r) => setTimeout(r, 200)); // nothing more comes
        assert.equal(out.map((e) => e.cause), ["a", "b"]);
        assert.equal(out.map((e) => (e.body as { count: number }).count), [BATCH, 2 * BATCH]);
        assert.is((out[1]!.body as { mean: number }).mean, 1.5, "the value 100 was never applied");
        host.signal("SIGTERM");
        assert.is(await host.exited, 0, host.output());

        // Restarted from its snapshot: the window came back with it.
        out.length = 0;
        host = startTroupe(["run", "--config", config]);
        await host.waitFor("troupe run: host dup running");
        await send(frame("b", 2 * BATCH, 1000));
        await send(frame("c", 2 * BATCH, 3));
        await until(() => out.some((e) => e.cause === "c"), () => JSON.stringify(out));
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(out.map((e) => e.cause), ["c"], JSON.stringify(out));
        assert.is((out[0]!.body as { count: number }).count, 3 * BATCH);
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
}

test.run();

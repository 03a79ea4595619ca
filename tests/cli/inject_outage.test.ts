/**
 * `troupe inject` through a nats-server outage, against a real nats-server: restarted, the
 * injector reconnects and carries on to the end of --duration; gone for good, it stops with the
 * reason, exit 1, no later than the end of --duration (plus start-up and a grace).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { connect } from "@nats-io/transport-node";
import { NatsServer } from "../../actors/runtime/mod.ts";
import { startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats } from "../_support/nats.ts";

const test = suite("troupe inject: NATS outage");

function within<T>(p: Promise<T>, ms: number): Promise<T | "hung"> {
  return Promise.race([p, new Promise<"hung">((r) => setTimeout(() => r("hung"), ms))]);
}

if (haveNatsServer("troupe inject: NATS outage")) {
  test("a nats-server restart: inject reconnects and carries on to the end of --duration", async () => {
    const first = await startTestNats();
    let nats: NatsServer = first;
    const inject = startTroupe([
      "inject",
      "--nats",
      nats.url,
      "--rate",
      "20000",
      "--duration",
      "6",
      "--channels",
      "4",
    ]);
    try {
      await inject.waitFor("troupe inject: market feed", 20_000);
      await new Promise((r) => setTimeout(r, 1500));
      await nats.stop();
      await new Promise((r) => setTimeout(r, 1000));
      nats = await NatsServer.start(first.options);
      const watcher = await connect({ servers: nats.url });
      let after = 0;
      const sub = watcher.subscribe("troupe.feed.>", {
        callback: () => {
          after++;
        },
      });
      const code = await within(inject.exited, 30_000);
      sub.unsubscribe();
      await watcher.close();
      assert.is(code, 0, inject.output());
      assert.match(inject.output(), "reconnecting");
      assert.match(inject.output(), "duration reached");
      assert.ok(after > 0, "frames published after the restart");
    } finally {
      inject.signal("SIGKILL");
      await nats.stop();
      await first.cleanup();
    }
  });

  test("a nats-server gone for good: inject stops with the reason by the end of --duration, exit 1", async () => {
    const nats = await startTestNats();
    const inject = startTroupe([
      "inject",
      "--nats",
      nats.url,
      "--rate",
      "20000",
      "--duration",
      "4",
    ]);
    try {
      await inject.waitFor("troupe inject: market feed", 20_000);
      const t0 = Date.now();
      await nats.stop();
      const code = await within(inject.exited, 20_000);
      assert.is(code, 1, inject.output());
      assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
      assert.match(inject.output(), nats.url);
      assert.match(inject.output(), /troupe inject: stopped: .+/);
      assert.not.match(inject.output(), /troupe inject: \n/, "never an empty message");
    } finally {
      inject.signal("SIGKILL");
      await nats.cleanup();
    }
  });
}

test.run();

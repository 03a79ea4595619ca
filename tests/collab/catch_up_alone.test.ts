/**
 * A collab node alone on a real nats-server, with its stream gateway subscribed to `troupe.sys.>`:
 * loading a session asks the other nodes for what it lacks, and with no other node NATS says "no
 * responders" at once, rather than the gateway's wildcard taking the ask and the load waiting out
 * `catch_up_ms`. The node's requests are seen through a bus that records how each one ended.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { NatsBus } from "../../actors/runtime/mod.ts";
import { launchCollab } from "../../collab/mod.ts";
import type { Bus, BusMessage, RequestOptions } from "../../protocol/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { connectClient, tokenFor, waitFor } from "./_support.ts";

const test = suite("a collab node alone");

/** How one request ended: its subject, and its error's message and flag when it failed. */
interface Asked {
  subject: string;
  error?: { message: string; noResponders: unknown };
}

/** `inner`, recording how each request ends in `asked`. */
function recordingBus(inner: Bus, asked: Asked[]): Bus {
  return {
    publish: (subject, data, options) => inner.publish(subject, data, options),
    subscribe: (pattern, handler, options) => inner.subscribe(pattern, handler, options),
    flush: () => inner.flush(),
    close: () => inner.close(),
    async request(subject: string, data: Uint8Array, options: RequestOptions) {
      let reply: BusMessage;
      try {
        reply = await inner.request(subject, data, options);
      } catch (err) {
        const e = err as Error & { noResponders?: unknown };
        asked.push({ subject, error: { message: e.message, noResponders: e.noResponders } });
        throw err;
      }
      asked.push({ subject });
      return reply;
    },
  };
}

if (haveNatsServer("a collab node alone")) {
  test("loading a session with no other node is told 'no responders', not timed out", async () => {
    const nats = await startTestNats();
    const dir = tempDir("troupe-collab-alone-");
    const asked: Asked[] = [];
    const nc = await NatsBus.connect(nats.url, { name: "collab-alone" });
    const collab = await launchCollab({ dataDir: dir.path, bus: recordingBus(nc, asked) });
    try {
      assert.ok(collab.stream, "the gateway runs (its troupe.sys.> subscription exists)");
      await nc.flush();
      const client = await connectClient(
        collab.server.url,
        "ops",
        await tokenFor(dir.path, "ops", "editor"),
      );
      try {
        const catchUp = () => asked.find((a) => a.subject.split(".").includes("collab"));
        await waitFor(() => catchUp() !== undefined, 10_000, "the node's catch-up ask to end");
        const ask = catchUp()!;
        assert.ok(ask.error, `the ask on ${ask.subject} failed (no other node holds ops)`);
        assert.match(ask.error.message, /no responders/i);
        assert.is(ask.error.noResponders, true);
        // The incident seed's ask, also a request nobody answers here, is told the same.
        const seed = asked.find((a) => a.subject.includes("incidents"));
        if (seed) assert.is(seed.error?.noResponders, true, JSON.stringify(seed));
      } finally {
        client.destroy();
      }
    } finally {
      await collab.close();
      await nc.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();

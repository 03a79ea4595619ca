import { suite } from "uvu";
import * as assert from "uvu/assert";
import { COLLAB_CLOSE_SLOW } from "../../collab/mod.ts";
import {
  connectClient,
  getText,
  metric,
  stallProcess,
  tokenFor,
  waitFor,
  withCollabServer,
} from "./_support.ts";

const test = suite("collab slow consumer");

const BOUND = 256 << 10;

/**
 * Three stock clients; one stops reading and a writer sends 64 KiB entries until the server has
 * closed that one as a slow consumer. Then, after a stall of this process of `stallMs` (the server
 * and the clients in it), the slow client reads again (`resume`) or never does.
 */
async function slowConsumer(
  { stallMs, resume }: { stallMs: number; resume: boolean },
): Promise<void> {
  await withCollabServer({ send_buffered_bytes_max: BOUND }, async (c, dir, http) => {
    const token = await tokenFor(dir, "ops", "editor");
    const writer = await connectClient(c.server.url, "ops", token);
    const bystander = await connectClient(c.server.url, "ops", token);
    const slow = await connectClient(c.server.url, "ops", token);
    const closes: { code: number; reason: string }[] = [];
    slow.provider.on(
      "connection-close",
      (e) => e && closes.push({ code: e.code, reason: e.reason }),
    );
    try {
      // The stock client stops reading: the kernel's socket buffers fill (some megabytes on
      // loopback), then the server's queue for it grows until the next message finds it past the
      // bound.
      const socket = (slow.provider.ws as unknown as { _socket: { pause(): void; resume(): void } })
        ._socket;
      socket.pause();
      const log = writer.doc.getArray<string>("log");
      const seen = bystander.doc.getArray<string>("log");
      const closedSlow = async () =>
        metric(
          await getText(`${http}/metrics`),
          "troupe_collab_sockets_closed_total",
          'reason="slow"',
        );
      let chunks = 0;
      for (; chunks < 400 && (await closedSlow()) === 0; chunks++) {
        log.push(["x".repeat(64 << 10) + chunks]);
        await waitFor(
          () => seen.length === chunks + 1,
          10_000,
          `the bystander has entry ${chunks}`,
        );
      }
      assert.is(await closedSlow(), 1, `closed as slow after ${chunks} chunks of 64 KiB`);
      assert.ok(chunks > BOUND / (64 << 10), "the kernel's buffers took some chunks first");
      if (stallMs > 0) stallProcess(stallMs);
      if (!resume) {
        // Never read again: the server cuts it (ws's own closing handshake would take 30 s).
        await waitFor(() => c.server.health().connections === 2, 20_000, "the slow one cut");
        assert.is(closes.length, 0, "it read nothing, so nothing came");
        return;
      }
      socket.resume();
      // It reads the close frame queued behind what it had not read, reconnects and resyncs.
      await waitFor(() => closes.length > 0, 10_000, "the slow client to see its socket close");
      assert.is(closes[0]!.code, COLLAB_CLOSE_SLOW);
      assert.match(
        closes[0]!.reason,
        new RegExp(`slow consumer: \\d+ bytes unsent, bound ${BOUND}`),
      );
      log.push(["after"]);
      const mine = slow.doc.getArray<string>("log");
      await waitFor(() => mine.length === chunks + 1, 20_000, "the slow client to resync");
      assert.equal(mine.toArray(), log.toArray(), "nothing lost");
      assert.is(seen.length, chunks + 1, "the bystander was unaffected");
    } finally {
      writer.destroy();
      bystander.destroy();
      slow.destroy();
    }
  });
}

test("a client that stops reading is closed with 4008 past the send bound, and resyncs on reconnecting", async () => {
  await slowConsumer({ stallMs: 0, resume: true });
});

test("a slow client that reads again after a stall of the server still reads its 4008 and why", async () => {
  // 2.5 s: longer than the server once gave such a client, from the close, to read it.
  await slowConsumer({ stallMs: 2500, resume: true });
});

test("a slow client that never reads again is cut", async () => {
  await slowConsumer({ stallMs: 0, resume: false });
});

test.run();

/**
 * The collab bridge against a host on two worker threads (issue 31 item 5: the Thresholds panel
 * shows what the hosts apply, from their replies). Each thread applies and answers a kind-wide
 * change for the instances it owns: the bridge gathers both answers and writes their sum and both
 * threads into the threshold entry, not the first thread's share; a refusal names the threads that
 * refused. A real nats-server, a real threaded host, a real collab server and client.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { defaultHostConfig, NatsBus, ThreadedHost } from "../../actors/runtime/mod.ts";
import { launchCollab } from "../../collab/mod.ts";
import { appliedEntry } from "../../collab/session/applied_settings.ts";
import { encodeFrame, feedSubject } from "../../protocol/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { connectClient, tokenFor, waitFor } from "./_support.ts";
import { ACTOR_KINDS_MODULE } from "../../actors/mod.ts";

const test = suite("collab bridge to a threaded host");
const CHANNELS = 8;

if (haveNatsServer("collab bridge to a threaded host")) {
  test("a kind-wide threshold is answered by both threads: the entry says their instances summed and names both; a refusal names both", async () => {
    const nats = await startTestNats();
    const dir = tempDir("troupe-collab-bridge-threads-");
    const config = defaultHostConfig();
    config.host_id = "bt";
    config.nats = nats.url;
    config.data_dir = join(dir.path, "host");
    config.input = "core";
    config.partitions = { count: 4, owned: [0, 1, 2, 3] };
    config.actors = { stats: { every_samples: 1 } };
    const host = await ThreadedHost.start(config, 2, { kinds: ACTOR_KINDS_MODULE, log: () => {} });
    const collab = await launchCollab({
      dataDir: join(dir.path, "collab"),
      nats: nats.url,
      bridgeOptions: { timeoutMs: 3000 },
    });
    const feed = await NatsBus.connect(nats.url);
    try {
      for (let i = 0; i < CHANNELS; i++) {
        const channel = `k${i}`;
        feed.publish(
          feedSubject("test", channel),
          encodeFrame({
            channel,
            seq0: 0,
            t: Float64Array.of(1_700_000_000_000_000),
            v: Float64Array.of(i),
          }, { id: `f${i}`, src: "test" }),
        );
      }
      await waitFor(() => host.applied("stats") === CHANNELS, 10_000, "every channel applied");
      assert.ok(host.applied("stats", 0) > 0 && host.applied("stats", 1) > 0, "both threads own");

      const editor = await connectClient(
        collab.server.url,
        "ops",
        await tokenFor(join(dir.path, "collab"), "ops", "editor"),
      );
      editor.sdoc.setThreshold("stats", undefined, { every_samples: 5 }, "ana");
      await waitFor(() => editor.sdoc.threshold("stats")?.status === "ok", 8000, "kind-wide ok");
      const ok = editor.sdoc.threshold("stats")!;
      assert.is(
        ok.applied,
        `applied to ${CHANNELS} running stats instance(s) and the configuration of those to come`,
      );
      assert.is(ok.host, "bt-t0, bt-t1");
      // The panel's applied view: both threads report every_samples 5 for the kind.
      await waitFor(
        () => appliedEntry(editor.sdoc.doc, "stats")?.settings["every_samples"] === 5,
        5000,
        "the applied map",
      );

      editor.sdoc.setThreshold("stats", undefined, { every_samples: 0 }, "ana");
      await waitFor(() => editor.sdoc.threshold("stats")?.status === "error", 8000, "refused");
      const refused = editor.sdoc.threshold("stats")!;
      assert.match(refused.reason!, /^bt-t0, bt-t1 refused: .*every_samples/);
      assert.is(refused.host, "bt-t0, bt-t1");
      assert.is(refused.applied, undefined);
      editor.destroy();
    } finally {
      await feed.close();
      await collab.close();
      await host.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();

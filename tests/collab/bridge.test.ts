import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import { defaultHostConfig, launchHost, NatsBus } from "../../actors/runtime/mod.ts";
import { launchCollab } from "../../collab/mod.ts";
import { encodeFrame, feedSubject } from "../../protocol/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { connectClient, tokenFor, waitFor, waitForMetric } from "./_support.ts";

const test = suite("collab bridge to the actors");
const run = haveNatsServer("collab bridge to the actors");

test("a threshold an editor sets becomes a control message: the actor's configuration changes and what the host applied is written back; a group kind's key is its group; kind-wide changes count instances; a refusal carries its reason; a viewer's never crosses", async () => {
  const nats = await startTestNats();
  const dir = tempDir("troupe-collab-bridge-");
  const config = defaultHostConfig();
  config.host_id = "h1";
  config.nats = nats.url;
  config.data_dir = join(dir.path, "host");
  config.input = "core";
  config.actors = { stats: {}, coherence: {} };
  const host = await launchHost(config, ACTOR_KINDS, { log: () => {} });
  const collab = await launchCollab({
    dataDir: join(dir.path, "collab"),
    nats: nats.url,
    bridgeOptions: { timeoutMs: 3000 },
  });
  const feed = await NatsBus.connect(nats.url);
  try {
    // An instance stats/c1 exists once a frame of channel c1 arrived.
    feed.publish(
      feedSubject("test", "c1"),
      encodeFrame({
        channel: "c1",
        seq0: 0,
        t: new Float64Array([1_700_000_000_000_000]),
        v: new Float64Array([1]),
      }, { id: "f1", src: "test" }),
    );
    await waitFor(() => host.host.instance("stats", "c1") !== undefined, 5000, "stats/c1");
    const before = (host.host.instance("stats", "c1")!.config as { every_samples: number })
      .every_samples;
    assert.is.not(before, 7);

    const editor = await connectClient(
      collab.server.url,
      "ops",
      await tokenFor(join(dir.path, "collab"), "ops", "editor"),
    );
    let ctl = 0;
    feed.subscribe("troupe.ctl.>", () => ctl++);
    await feed.flush();
    editor.sdoc.setThreshold("stats", "c1", { every_samples: 7 }, "ana");
    await waitFor(() => editor.sdoc.threshold("stats", "c1")?.status === "ok", 5000, "ok");
    assert.is(ctl, 1, "one change, one control message");
    assert.is(editor.sdoc.threshold("stats", "c1")!.applied, "applied to stats/c1");
    assert.is(editor.sdoc.threshold("stats", "c1")!.host, "h1");
    await waitFor(
      () =>
        (host.host.instance("stats", "c1")!.config as { every_samples: number }).every_samples ===
          7,
      5000,
      "the actor's configuration to change",
    );

    editor.sdoc.setThreshold("stats", "c1", { every_samples: -5 }, "ana");
    await waitFor(() => editor.sdoc.threshold("stats", "c1")?.status === "error", 5000, "refused");
    assert.match(editor.sdoc.threshold("stats", "c1")!.reason!, "every_samples");
    assert.match(editor.sdoc.threshold("stats", "c1")!.reason!, "-5");
    assert.is(
      (host.host.instance("stats", "c1")!.config as { every_samples: number }).every_samples,
      7,
    );

    // A group kind's key is its group: coherence/all (every channel, no groups configured).
    await waitFor(() => host.host.instance("coherence", "all") !== undefined, 5000, "group all");
    editor.sdoc.setThreshold("coherence", "all", { warmup_bars: 7 }, "ana");
    await waitFor(() => editor.sdoc.threshold("coherence", "all")?.status === "ok", 5000, "ok");
    assert.is(editor.sdoc.threshold("coherence", "all")!.applied, "applied to coherence/all");
    await waitFor(
      () =>
        (host.host.instance("coherence", "all")!.config as { warmup_bars: number }).warmup_bars ===
          7,
      5000,
      "the group's configuration to change",
    );
    // Kind-wide: every instance of the kind here, and those to come.
    editor.sdoc.setThreshold("stats", undefined, { every_samples: 11 }, "ana");
    await waitFor(() => editor.sdoc.threshold("stats")?.status === "ok", 5000, "kind-wide ok");
    assert.is(
      editor.sdoc.threshold("stats")!.applied,
      "applied to 1 running stats instance(s) and the configuration of those to come",
    );
    await waitFor(
      () =>
        (host.host.instance("stats", "c1")!.config as { every_samples: number }).every_samples ===
          11,
      5000,
      "the kind-wide change to reach stats/c1",
    );

    // A kind no host runs: refused (the host passes, not waited out), with what the host runs.
    editor.sdoc.setThreshold("nosuchkind", undefined, { x: 1 }, "ana");
    await waitFor(() => editor.sdoc.threshold("nosuchkind")?.status === "error", 8000, "refusal");
    assert.is(
      editor.sdoc.threshold("nosuchkind")!.reason!,
      "no host runs nosuchkind (h1 runs coherence, stats)",
    );

    // A viewer's change is dropped at the server, so nothing reaches the actors.
    const viewer = await connectClient(
      collab.server.url,
      "ops",
      await tokenFor(join(dir.path, "collab"), "ops", "viewer"),
    );
    ctl = 0;
    viewer.sdoc.setThreshold("stats", "c1", { every_samples: 3 }, "vic");
    // Once the server counts it dropped, it was never applied: nothing for the bridge to send.
    const metrics = `http://127.0.0.1:${collab.server.port}/metrics`;
    assert.is(await waitForMetric(metrics, "troupe_collab_viewer_writes_dropped_total", 1), 1);
    assert.is(ctl, 0);
    assert.is(
      (host.host.instance("stats", "c1")!.config as { every_samples: number }).every_samples,
      11,
    );
    editor.destroy();
    viewer.destroy();
  } finally {
    await feed.close();
    await collab.close();
    await host.close();
    await nats.cleanup();
    dir.remove();
  }
});

if (run) test.run();

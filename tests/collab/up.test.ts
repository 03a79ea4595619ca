import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { startTroupe } from "../_support/cli.ts";
import { tempDir } from "../_support/nats.ts";
import { connectClient, waitFor } from "./_support.ts";

const test = suite("troupe up's collab server");

test("troupe up prints the collab URL and an owner token that opens the session; a threshold reaches the host", async () => {
  const dir = tempDir();
  const up = startTroupe([
    "up",
    "--no-nats",
    "--duration",
    "20",
    "--channels",
    "2",
    "--data-dir",
    join(dir.path, "d"),
    "--http-port",
    "0",
    "--collab-port",
    "0",
  ]);
  try {
    await up.waitFor("owner token");
    const m = /collab server (ws:\/\/\S+) \(y-websocket; session "main", owner token (\S+);/
      .exec(up.output());
    assert.ok(m, up.output());
    const client = await connectClient(m![1]!, "main", m![2]!);
    client.sdoc.setThreshold("stats", undefined, { every_samples: 50 }, "owner");
    await waitFor(() => client.sdoc.threshold("stats")?.status === "ok", 10_000, "the host's ok");
    client.sdoc.setThreshold("stats", undefined, { every_samples: 0 }, "owner");
    await waitFor(() => client.sdoc.threshold("stats")?.status === "error", 10_000, "a refusal");
    assert.match(client.sdoc.threshold("stats")!.reason!, "every_samples");
    client.destroy();
  } finally {
    up.signal("SIGINT");
    assert.is(await up.exited, 0, up.output());
    dir.remove();
  }
});

test.run();

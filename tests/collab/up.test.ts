import { suite } from "uvu";
import * as Y from "yjs";
import { replaySessions, SessionDoc } from "../../collab/mod.ts";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { runTroupe, startTroupe } from "../_support/cli.ts";
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

test("troupe up --record, then troupe replay --verify: the session is rebuilt from the recording and equals what the clients had", async () => {
  const dir = tempDir();
  const rec = join(dir.path, "session.rec");
  const up = startTroupe([
    "up",
    "--no-nats",
    "--duration",
    "60",
    "--channels",
    "2",
    "--data-dir",
    join(dir.path, "d"),
    "--http-port",
    "0",
    "--collab-port",
    "0",
    "--record",
    rec,
  ]);
  try {
    await up.waitFor("owner token");
    const m = /collab server (ws:\/\/\S+) \(y-websocket; session "main", owner token (\S+);/
      .exec(up.output());
    assert.ok(m, up.output());
    const a = await connectClient(m![1]!, "main", m![2]!);
    const b = await connectClient(m![1]!, "main", m![2]!);
    a.sdoc.setThreshold("stats", undefined, { every_samples: 40 }, "a");
    for (let i = 0; i < 20; i++) {
      const who = i % 2 ? b : a;
      who.sdoc.addAnnotation({ id: `n${i}`, t: i, channel: "c0", text: `note ${i}`, author: "x" });
    }
    b.doc.getArray("annotations").delete(3, 2);
    await waitFor(() => a.sdoc.threshold("stats")?.status === "ok", 10_000, "the host's ok");
    await waitFor(
      () => a.sdoc.annotationList().length === 18 && b.sdoc.annotationList().length === 18,
      10_000,
      "both clients to hold 18 annotations",
    );
    const seen = { notes: a.sdoc.annotationList(), stats: a.sdoc.threshold("stats") };
    a.destroy();
    b.destroy();
    up.signal("SIGINT");
    assert.is(await up.exited, 0, up.output());
    assert.match(up.output(), "troupe up: recorded");

    const r = await runTroupe(["replay", rec, "--verify", "--json"], { timeoutMs: 120_000 });
    assert.is(r.code, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout) as {
      sessions: { session: string; verified?: { ok: boolean }; doc?: unknown }[];
    };
    const main = out.sessions.find((x) => x.session === "main");
    assert.ok(main, r.stdout.slice(0, 2000));
    assert.equal(main!.verified, { ok: true, problems: [] });
    const text = await runTroupe(["replay", rec, "--verify"], { timeoutMs: 120_000 });
    assert.match(
      text.stdout,
      /session main: \d+ updates, \d+ checkpoints, \d+ bytes rebuilt; verified/,
    );
    const rebuilt = (await replaySessions(rec, { verify: true })).find((x) => x.session === "main");
    const doc = new SessionDoc();
    Y.applyUpdate(doc.doc, rebuilt!.state);
    assert.equal(
      { notes: doc.annotationList(), stats: doc.threshold("stats") },
      seen,
      "the rebuilt document is what the clients had",
    );
  } finally {
    up.signal("SIGINT");
    await up.exited;
    dir.remove();
  }
});

test.run();

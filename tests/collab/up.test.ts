import { suite } from "uvu";
import * as Y from "yjs";
import { existsSync, rmSync } from "node:fs";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  COLLAB_JOURNAL_PREFIX,
  COLLAB_JOURNAL_STREAM,
  replaySessions,
  SessionDoc,
} from "../../collab/mod.ts";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { decodeHistoryResponse, decodeIncidentList, historyQuery } from "../../protocol/mod.ts";
import { runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, tempDir } from "../_support/nats.ts";
import { connectClient, waitFor } from "./_support.ts";
import { natsAuthOptions } from "../../actors/runtime/mod.ts";
import { upNatsAuth } from "../cli/_up.ts";

const test = suite("troupe up's collab server");

/** On the in-process bus the dashboard's server answers /history from the feed it saw, and
 *  /incidents from the stage's list (issue 31: both were missing without nats-server). */
async function historyWithoutNats(output: string): Promise<void> {
  const d = /dashboard (http:\/\/\S+?)\/\?session=main&token=(\S+)/.exec(output);
  assert.ok(d, output);
  const request = () => {
    const now = Date.now() * 1000;
    const q = historyQuery({ channel: "SYM001", t0_us: now - 60e6, t1_us: now, points_max: 400 });
    return fetch(`${d![1]}/history?token=${d![2]}&${q}`);
  };
  let h;
  for (let i = 0; i < 100; i++) {
    const res = await request();
    assert.is(res.status, 200, await res.clone().text());
    h = decodeHistoryResponse(new Uint8Array(await res.arrayBuffer()));
    if (h.samples > 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(h!.samples > 0 && h!.t.length > 0, "SYM001's samples of the last minute");
  assert.ok(h!.samples_since_us !== null && h!.samples_since_us <= h!.t[0]!, "held whole");
  const res = await fetch(`${d![1]}/incidents?token=${d![2]}`);
  assert.is(res.status, 200, await res.clone().text());
  assert.ok(Array.isArray(decodeIncidentList(new Uint8Array(await res.arrayBuffer()))));
}

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
    await up.waitFor("share it read-only");
    await historyWithoutNats(up.output());
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

test("troupe up --journal: a bad kind, or jetstream with --no-nats, is a usage error", async () => {
  // Generous: under a heavy load, starting the command alone has taken most of a minute.
  const slow = { timeoutMs: 120_000 };
  const bad = await runTroupe(["up", "--journal", "sqlite", "--no-nats"], slow);
  assert.is(bad.code, 2, bad.stdout + bad.stderr);
  assert.match(bad.stderr, `Option --journal must be file or jetstream, got "sqlite"`);
  const noNats = await runTroupe(["up", "--journal", "jetstream", "--no-nats"], slow);
  assert.is(noNats.code, 2, noNats.stdout + noNats.stderr);
  assert.match(noNats.stderr, "--journal jetstream needs NATS");
});

test("troupe up --journal jetstream without a nats-server it can start ends with 1 and the reason, at once", async () => {
  const dir = tempDir();
  try {
    const args = ["up", "--journal", "jetstream", "--data-dir", join(dir.path, "d")];
    const slow = { timeoutMs: 120_000 };
    const absent = await runTroupe(args, {
      ...slow,
      env: { TROUPE_NATS_SERVER: join(dir.path, "no-such-nats-server") },
    });
    assert.is(absent.code, 1, absent.stdout + absent.stderr);
    assert.match(
      absent.stderr,
      /--journal jetstream needs nats-server, and TROUPE_NATS_SERVER names ".*no-such-nats-server", which does not exist/,
    );
    // A binary that exits before it is ready (as nats-server does on a bad store or port).
    const broken = await runTroupe(args, { ...slow, env: { TROUPE_NATS_SERVER: "/bin/false" } });
    assert.is(broken.code, 1, broken.stdout + broken.stderr);
    assert.match(
      broken.stderr,
      "troupe up: cannot start nats-server (/bin/false): nats-server exited with code 1 before it was ready",
    );
    assert.match(broken.stderr, "--journal jetstream needs it");
    assert.not.match(broken.stdout, "collab server", "nothing started");
  } finally {
    dir.remove();
  }
});

/** Starts `troupe up --journal jetstream` on `dataDir`; its collab URL, owner token and NATS URL. */
async function upOnJetStream(dataDir: string) {
  const up = startTroupe([
    "up",
    "--journal",
    "jetstream",
    "--duration",
    "60",
    "--channels",
    "2",
    "--data-dir",
    dataDir,
    "--http-port",
    "0",
    "--collab-port",
    "0",
  ]);
  await up.waitFor("collab documents in JetStream", 60_000);
  const m = /collab server (ws:\/\/\S+) \(y-websocket; session "main", owner token (\S+);/
    .exec(up.output());
  const nats = /nats-server on (nats:\/\/\S+)/.exec(up.output());
  assert.ok(m && nats, up.output());
  return { up, url: m![1]!, token: m![2]!, nats: nats![1]! };
}

if (haveNatsServer("troupe up --journal jetstream")) {
  test("troupe up --journal jetstream keeps the host's journal and the collab documents in JetStream: the documents survive a restart with the data directory's collab files gone", async () => {
    const dir = tempDir();
    const dataDir = join(dir.path, "d");
    let first = await upOnJetStream(dataDir);
    try {
      assert.match(first.up.output(), "(journal in JetStream)");
      const a = await connectClient(first.url, "main", first.token);
      for (let i = 0; i < 10; i++) {
        a.sdoc.addAnnotation({ id: `n${i}`, t: i, channel: "c0", text: `note ${i}`, author: "a" });
      }
      const seen = a.sdoc.annotationList();
      // Every edit is a record of the node's collab journal stream in JetStream.
      const nc = await connect({ servers: first.nats, ...natsAuthOptions(upNatsAuth(dataDir)) });
      try {
        const jsm = await jetstreamManager(nc);
        const subject = `${COLLAB_JOURNAL_PREFIX}.collab.up-1-collab.main`;
        let records = 0;
        for (let i = 0; i < 100 && records < 10; i++) {
          if (i > 0) await new Promise((r) => setTimeout(r, 100));
          const info = await jsm.streams.info(COLLAB_JOURNAL_STREAM, { subjects_filter: subject });
          records = info.state.subjects?.[subject] ?? 0;
        }
        assert.ok(records >= 10, `${records} records on ${subject}`);
      } finally {
        await nc.close();
      }
      a.destroy();
      first.up.signal("SIGINT");
      assert.is(await first.up.exited, 0, first.up.output());
      assert.not.ok(
        existsSync(join(dataDir, "collab", "journal")),
        "no collab journal in the data directory",
      );
      // Anything collab kept on disk goes; the token secret stays (the same tokens open it).
      rmSync(join(dataDir, "collab"), { recursive: true, force: true });

      first = await upOnJetStream(dataDir);
      const b = await connectClient(first.url, "main", first.token);
      try {
        assert.equal(b.sdoc.annotationList(), seen, "every edit, from JetStream");
      } finally {
        b.destroy();
      }
    } finally {
      first.up.signal("SIGINT");
      assert.is(await first.up.exited, 0, first.up.output());
      dir.remove();
    }
  });
}

test.run();

/**
 * `troupe incidents ack|silence|unsilence` against real parts: a nats-server, the incident stage,
 * the collab server and its stream gateway, the data directory `troupe up` leaves (collab.json and
 * the keyring). The commands write the session document as an editor and print the stage's answer;
 * a silence holds in another client's view and in `troupe watch`'s default view; bad input is a
 * usage error naming the field and value; an unknown id and no collab server fail (exit 1); the
 * list shows each incident's ack (who, when, note) from the session, as lines and as JSON.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { defaultIncidentConfig, runIncidentStage } from "../../actors/incidents/mod.ts";
import { NatsBus } from "../../actors/runtime/mod.ts";
import { launchCollab, SessionIncidents } from "../../collab/mod.ts";
import { encodeEventEnvelope, findingSubject } from "../../protocol/mod.ts";
import { writeCollabFile } from "../../actors/cluster/data_dir/mod.ts";
import { ndjson, runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { connectClient, tokenFor, waitFor } from "../collab/_support.ts";

const test = suite("troupe incidents ack, silence, unsilence");
const S = 1_000_000;

test("a bad matcher, a duration that is not one or a missing --reason is a usage error naming the field and value (exit 2)", async () => {
  const bad = await runTroupe([
    "incidents",
    "silence",
    "kind=anomaly",
    "chanel=SYM1",
    "--for",
    "2h",
    "--reason",
    "r",
  ]);
  assert.is(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, 'field "silence.matchers"');
  assert.match(bad.stderr, '"chanel=SYM1"');
  // The brief's own `channel=SYM00*`: refused with the operator a glob needs.
  const glob = await runTroupe([
    "incidents",
    "silence",
    "channel=SYM00*",
    "--for",
    "2h",
    "--reason",
    "r",
  ]);
  assert.is(glob.code, 2, glob.stderr);
  assert.match(glob.stderr, '"channel=SYM00*"');
  assert.match(glob.stderr, "a glob needs =~ (channel=~SYM00*)");
  const past = await runTroupe([
    "incidents",
    "silence",
    "kind=anomaly",
    "--for",
    "-5m",
    "--reason",
    "r",
  ]);
  assert.is(past.code, 2, past.stderr);
  assert.match(past.stderr, "-5m");
  const why = await runTroupe(["incidents", "silence", "kind=anomaly", "--for", "2h"]);
  assert.is(why.code, 2, why.stderr);
  assert.match(why.stderr, "needs --reason");
  const verb = await runTroupe(["incidents", "mute", "x"]);
  assert.is(verb.code, 2, verb.stderr);
  assert.match(verb.stderr, 'got "mute"');
});

test("no collab server is a failure naming where it looked (exit 1)", async () => {
  const dir = tempDir("troupe-incidents-none-");
  try {
    const r = await runTroupe(["incidents", "ack", "x", "--data-dir", dir.path]);
    assert.is(r.code, 1, r.stderr);
    assert.match(r.stderr, "no collab server");
    assert.match(r.stderr, "collab.json");
    const far = await runTroupe([
      "incidents",
      "ack",
      "x",
      "--url",
      "ws://127.0.0.1:1",
      "--token",
      "t",
      "--timeout",
      "1000",
    ]);
    assert.is(far.code, 1, far.stderr);
    assert.match(far.stderr, "no collab server at ws://127.0.0.1:1");
  } finally {
    dir.remove();
  }
});

if (haveNatsServer("troupe incidents edits against nats-server")) {
  test("silence, unsilence and ack write the session, print the stage's answer, and a silence holds in another's view and in troupe watch", async () => {
    const nats = await startTestNats();
    const dir = tempDir("troupe-incidents-edits-");
    const bus = await NatsBus.connect(nats.url);
    const stage = runIncidentStage(bus, { config: defaultIncidentConfig });
    const collab = await launchCollab({ dataDir: dir.path, nats: nats.url });
    const base = `127.0.0.1:${collab.server.port}`;
    const viewer = await tokenFor(dir.path, "main", "viewer");
    writeCollabFile(dir.path, {
      stream: `ws://${base}/stream`,
      dashboard: `http://${base}/`,
      session: "main",
      token: viewer,
      exp: Math.floor(Date.now() / 1000) + 3600,
    });
    const other = await connectClient(collab.server.url, "main", viewer);
    const seen = new SessionIncidents(other.doc);
    const t0 = Date.now() * 1000;
    let n = 0;
    const finding = (kind: string, channel: string, ts: number) =>
      bus.publish(
        findingSubject(kind, channel),
        encodeEventEnvelope({ id: `in${n++}:${kind}:${channel}:0`, type: kind, src: "h", ts }, {
          ...(kind === "coherence"
            ? { group: channel, state: "normal", from: "coherent", ratio: 0.5, shift: 1 }
            : { channel }),
          ...(kind === "coherence" ? { top_channels: [] } : {}),
          ...(kind === "anomaly"
            ? { score: 0.99, value: 1, expected: 0, lower: -1, upper: 1 }
            : kind === "collapse"
            ? {
              change_ts: ts,
              change_index: 0,
              delay_samples: 0,
              mean_before: 10,
              mean_after: 5,
              level_before: 10,
              level_after: 5,
              spread_before: 1,
              spread_after: 1,
              direction: "down",
              severity: 0.9,
            }
            : {}),
        }),
      );
    try {
      finding("anomaly", "SYM1", t0 - 10 * S);
      finding("anomaly", "SYM1", t0 - 7 * S);
      finding("anomaly", "SYM1", t0 - 4 * S);
      // A coherence group's return to normal opens nothing, but moves event time on: the stage
      // takes the findings before it (their updates, before the silence, are not silenced).
      finding("coherence", "all", t0);
      await bus.flush();
      await waitFor(
        () => stage.stage.list()[0]?.state === "firing" && stage.stage.list()[0]?.findings === 3,
        5000,
        "the incident to fire with its 3 findings",
      );
      const id = stage.stage.list()[0]!.id;
      const dd = ["--data-dir", dir.path, "--by", "ana"];

      const s = await runTroupe([
        "incidents",
        "silence",
        "kind=anomaly",
        "channel=~SYM*",
        "--for",
        "2h",
        "--reason",
        "exchange maintenance",
        ...dd,
      ]);
      assert.is(s.code, 0, s.stderr);
      const sid = /silence (\S+): kind=anomaly channel=~SYM\* until /.exec(s.stdout)?.[1];
      assert.ok(sid, s.stdout);
      assert.match(s.stdout, 'by ana ("exchange maintenance")');
      assert.match(s.stdout, "the stage: 1 silence(s) of session main");
      await waitFor(() => seen.silences.get(sid!)?.status === "ok", 5000, "the other view");
      assert.is(seen.silences.get(sid!)!.reason, "exchange maintenance");
      // A viewer's silence is refused at once, said as such (not "written"), and writes nothing.
      const v = await runTroupe([
        "incidents",
        "silence",
        "kind=collapse",
        "--for",
        "1h",
        "--reason",
        "v",
        ...dd,
        "--token",
        viewer,
      ]);
      assert.is(v.code, 1, v.stderr);
      assert.match(v.stderr, "a viewer's token may not acknowledge or silence");
      assert.not.match(v.stderr, "written to session");
      assert.is(seen.silences.size, 1);

      // troupe watch's default view: the silenced incident is left out, another shown.
      const watch = startTroupe(["watch", "--json", "--count", "1", "--data-dir", dir.path]);
      try {
        await waitFor(
          () => collab.stream!.stats().subscriptions >= 1,
          30_000,
          "watch to subscribe",
        );
        await new Promise((r) => setTimeout(r, 300));
        finding("anomaly", "SYM1", t0 + 15 * S);
        finding("anomaly", "SYM1", t0 + 17 * S);
        finding("anomaly", "SYM1", t0 + 40 * S); // holds it open (firing, for the ack) past 59 s
        await bus.flush();
        await waitFor(
          () => stage.stage.list().some((i) => i.id === id && i.silenced),
          5000,
          "silenced",
        );
        // An anomaly on a channel the silence does not match: its incident fires and is shown
        // (past the grouping window, a minute from SYM1's first: else it would join SYM1's).
        finding("anomaly", "OTHER", t0 + 55 * S);
        finding("anomaly", "OTHER", t0 + 58 * S);
        finding("anomaly", "OTHER", t0 + 61 * S);
        await bus.flush();
        const code = await Promise.race([
          watch.exited,
          new Promise((r) => setTimeout(() => r("still running after 20 s"), 20_000)),
        ]);
        assert.is(code, 0, watch.output());
        const lines = watch.output().trim().split("\n").map((l) => JSON.parse(l));
        assert.is(lines.length, 1, watch.output());
        assert.equal(lines[0].members.map((m: { channel: string }) => m.channel), ["OTHER"]);
        assert.is(lines[0].silenced, false);
      } finally {
        watch.signal("SIGKILL");
      }

      const un = await runTroupe(["incidents", "unsilence", sid!, ...dd]);
      assert.is(un.code, 0, un.stderr);
      assert.match(un.stdout, `silence ${sid} (kind=anomaly channel=~SYM*) ended by ana`);
      await waitFor(() => seen.silences.get(sid!)?.ended_by === "ana", 5000, "the end seen");
      const unknown = await runTroupe(["incidents", "unsilence", "nope", ...dd]);
      assert.is(unknown.code, 1, unknown.stderr);
      assert.match(unknown.stderr, 'No silence "nope"');

      const ack = await runTroupe(["incidents", "ack", id, "--note", "looking", ...dd]);
      assert.is(ack.code, 0, ack.stderr);
      assert.match(ack.stdout, `acknowledged ${id} as ana ("looking") (firing`);
      assert.is(ack.stdout.split(id).length, 2, `the id once: ${ack.stdout}`);
      await waitFor(() => seen.ackOf(id)?.note === "looking", 5000, "the ack seen");
      // The list shows the ack from the session document, as the panel does.
      const list = await runTroupe(["incidents", "--nats", nats.url, "--data-dir", dir.path]);
      assert.is(list.code, 0, list.stderr);
      const line = list.stdout.split("\n").find((l) => l.includes(id)) ?? list.stdout;
      assert.match(line, / {2}\((silenced; )?acked by ana \(looking\)\)$/);
      const json = await runTroupe([
        "incidents",
        "--json",
        "--nats",
        nats.url,
        "--data-dir",
        dir.path,
      ]);
      assert.is(json.code, 0, json.stderr);
      const listed = ndjson(json.stdout) as Array<Record<string, unknown>>;
      const ackAt = seen.ackOf(id)!.at_ms;
      assert.equal(listed.find((i) => i.id === id)?.ack, {
        by: "ana",
        at: new Date(ackAt).toISOString(),
        at_ms: ackAt,
        note: "looking",
        status: "ok",
        detail: seen.ackOf(id)!.detail,
      });
      assert.equal(listed.filter((i) => i.id !== id).map((i) => i.ack), [null]);
      const bad = await runTroupe(["incidents", "ack", "anomaly-1-NOPE", ...dd]);
      assert.is(bad.code, 1, bad.stderr);
      assert.match(bad.stderr, 'ack of anomaly-1-NOPE refused: Unknown incident "anomaly-1-NOPE"');
      await waitFor(() => seen.ackOf("anomaly-1-NOPE")?.status === "error", 5000, "kept, refused");
    } finally {
      other.destroy();
      stage.stop();
      await collab.close();
      await bus.close();
      await nats.stop();
      dir.remove();
    }
  });
}

test.run();

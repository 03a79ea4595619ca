/**
 * The collab server checks every editor's write against the session schema, over real WebSockets
 * with stock y-websocket clients: a write that does not fit is stored nowhere, relayed to no one,
 * counted, and its socket is told why (a permission-denied message, then a close with 4422 whose
 * reason names the field and the value); the writer's later edits cannot hang on the refused one,
 * and a viewer's write is refused with a message while its socket stays open.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import * as Y from "yjs";
import { COLLAB_CLOSE_REFUSED, launchCollab, type LaunchedCollab } from "../../collab/mod.ts";
import { tempDir } from "../_support/nats.ts";
import { connectClient, getText, metric, tokenFor, waitFor } from "./_support.ts";
import type { Client } from "./_support.ts";

const test = suite("collab server: the session schema");

async function withServer(
  fn: (c: LaunchedCollab, dataDir: string, http: string) => Promise<void>,
): Promise<void> {
  const dir = tempDir("troupe-collab-schema-");
  const c = await launchCollab({ dataDir: dir.path });
  try {
    await fn(c, dir.path, `http://127.0.0.1:${c.server.port}`);
  } finally {
    await c.close();
    dir.remove();
  }
}

/**
 * What the server said to `client`: its permission-denied reasons, its close, if any, and the
 * closes after which the client gave up reconnecting.
 */
function listen(
  client: Client,
): { denied: string[]; closes: Array<{ code: number; reason: string }>; terminal: number[] } {
  const heard = {
    denied: [] as string[],
    closes: [] as Array<{ code: number; reason: string }>,
    terminal: [] as number[],
  };
  const handlers = client.provider.messageHandlers;
  handlers[2] = (_e, decoder) => {
    // y-protocols auth: 0 (permission denied), then the reason.
    const d = decoder as { arr: Uint8Array; pos: number };
    const bytes = d.arr.subarray(d.pos);
    d.pos = d.arr.length;
    heard.denied.push(new TextDecoder().decode(bytes.subarray(2)));
  };
  client.provider.on("connection-close", (ev) => {
    if (ev) heard.closes.push({ code: ev.code, reason: ev.reason });
  });
  // Emitted when the client gives up reconnecting (a 44xx close).
  client.provider.on("closed", (ev: { code: number }) => heard.terminal.push(ev.code));
  return heard;
}

const refused = async (http: string) =>
  metric(await getText(`${http}/metrics`), "troupe_collab_writes_refused_total");

test("an editor's stock client writing workflow.garbage = 42 is refused: nothing stored or relayed, the socket closed with 4422 naming the field and value", async () => {
  await withServer(async (c, dir, http) => {
    const token = await tokenFor(dir, "ops", "editor");
    const other = await connectClient(c.server.url, "ops", token);
    const writer = await connectClient(c.server.url, "ops", token);
    const heard = listen(writer);
    try {
      writer.sdoc.setStep({ id: "s1", title: "check", status: "todo", assignee: "", due: 0 });
      await waitFor(() => other.sdoc.workflow.has("s1"), 5000, "the valid step to reach the other");
      writer.doc.getMap("workflow").set("garbage", 42);
      await waitFor(() => heard.closes.length > 0, 5000, "the writer's socket to close");
      assert.is(heard.closes[0]!.code, COLLAB_CLOSE_REFUSED);
      assert.match(heard.closes[0]!.reason, '"workflow.garbage"');
      assert.match(heard.closes[0]!.reason, "got 42");
      assert.is(heard.denied.length, 1);
      assert.match(
        heard.denied[0]!,
        /Session document field "workflow\.garbage" must be a checklist step .*, got 42/,
      );
      assert.is(await refused(http), 1);
      const room = c.server.room("ops")!;
      assert.not.ok(room.sdoc.workflow.has("garbage"), "the server stored nothing");
      // A later write from a third client reaches the other after anything the server sent it
      // before (one socket, in order): once it has come, a relayed garbage would have too.
      const third = await connectClient(c.server.url, "ops", token);
      try {
        third.sdoc.setStep({ id: "s-after", title: "after", status: "todo", assignee: "", due: 0 });
        await waitFor(
          () => other.sdoc.workflow.has("s-after"),
          5000,
          "the later step to reach the other",
        );
      } finally {
        third.destroy();
      }
      assert.not.ok(other.sdoc.workflow.has("garbage"), "nothing was relayed");
      // The stock client does not reconnect after a 44xx close (it would send the same write): it
      // gave up on that close (shouldConnect off, `closed` emitted), so its retry timer is a no-op.
      assert.is(heard.closes.length, 1);
      assert.is(writer.provider.shouldConnect, false);
      assert.equal(heard.terminal, [COLLAB_CLOSE_REFUSED]);
      // The other client's writes go on.
      other.sdoc.setStep({ id: "s2", title: "next", status: "todo", assignee: "", due: 0 });
      await waitFor(() => room.sdoc.workflow.has("s2"), 5000, "the other's next step");
    } finally {
      writer.destroy();
      other.destroy();
    }
  });
});

test("each kind of bad write is refused naming its field: a bad panel, a step under another key, an unknown key, a threshold field, a list entry", async () => {
  await withServer(async (c, dir, http) => {
    const token = await tokenFor(dir, "ops", "editor");
    const cases: Array<[string, (d: Y.Doc) => void, RegExp]> = [
      ["panel kind", (d) =>
        d.getMap("dashboard").set("p1", {
          id: "p1",
          kind: "pie",
          channels: [],
          title: "",
          layout: { x: 0, y: 0, w: 1, h: 1 },
        }), /"dashboard\.p1\.kind" must be one of chart, gauge, events, table, got "pie"/],
      ["step id", (d) =>
        d.getMap("workflow").set("a", {
          id: "b",
          title: "t",
          status: "todo",
          assignee: "",
          due: 0,
        }), /"workflow\.a\.id" must be "a" \(its key\), got "b"/],
      ["unknown key", (d) => d.getMap("garbage").set("x", 1), /no key "garbage".*"garbage\.x"/],
      ["threshold field", (d) =>
        d.transact(() => {
          const e = new Y.Map<unknown>();
          d.getMap("thresholds").set("anomaly", e);
          e.set("settings", { z: 3 });
          e.set("by", "ed");
          e.set("owner", "me");
        }), /"thresholds\.anomaly\.owner" must be absent/],
      [
        "annotation",
        (d) =>
          d.getArray("annotations").push([{
            id: "a1",
            t: -1,
            channel: "X",
            text: "t",
            author: "a",
          }]),
        /"annotations\.a1\.t" must be a finite number >= 0, got -1/,
      ],
      ["meta", (d) => d.getMap("meta").set("schema_version", 99), /"meta\.schema_version"/],
    ];
    for (const [what, write, reason] of cases) {
      const client = await connectClient(c.server.url, "ops", token);
      const heard = listen(client);
      try {
        write(client.doc);
        await waitFor(() => heard.closes.length > 0, 5000, `the close after the bad ${what}`);
        assert.is(heard.closes[0]!.code, COLLAB_CLOSE_REFUSED, what);
        assert.match(heard.denied[0] ?? "", reason, what);
      } finally {
        client.destroy();
      }
    }
    assert.is(await refused(http), cases.length);
    const room = c.server.room("ops")!;
    assert.is(room.sdoc.dashboard.size, 0);
    assert.is(room.sdoc.workflow.size, 0);
    assert.is(room.sdoc.thresholds.size, 0);
    assert.is(room.sdoc.annotations.length, 0);
    assert.is(room.doc.share.has("garbage"), false);
  });
});

test("valid writes of every kind are stored, a threshold's later field change too; the bridge's own fields are kept", async () => {
  await withServer(async (c, dir, http) => {
    const token = await tokenFor(dir, "ops", "editor");
    const client = await connectClient(c.server.url, "ops", token);
    const heard = listen(client);
    try {
      const s = client.sdoc;
      s.setPanel({
        id: "p1",
        kind: "chart",
        channels: ["X"],
        title: "x",
        layout: { x: 0, y: 0, w: 1, h: 1 },
      });
      s.setThreshold("anomaly", "X", { threshold: 0.5 }, "ed");
      s.setThreshold("anomaly", "X", { threshold: 0.6 }, "ed");
      s.addAnnotation({ id: "a1", t: 1, channel: "X", text: "here", author: "ed" });
      s.setStep({ id: "s1", title: "t", status: "done", assignee: "ed", due: 0 });
      s.setScan({ name: "sc", channels: ["X"], params: { n: 3 } });
      s.workflow.delete("s1");
      const room = c.server.room("ops")!;
      await waitFor(
        () => room.sdoc.scans.has("sc") && !room.sdoc.workflow.has("s1"),
        5000,
        "every write to land",
      );
      assert.is(room.sdoc.threshold("anomaly", "X")?.settings.threshold, 0.6);
      assert.is(room.sdoc.annotations.length, 1);
      assert.is(room.sdoc.panels().length, 1);
      assert.equal(heard.closes, []);
      assert.is(await refused(http), 0);
    } finally {
      client.destroy();
    }
  });
});

test("a viewer's write is refused with a message and counted; its socket stays open and keeps receiving", async () => {
  await withServer(async (c, dir, http) => {
    const editor = await connectClient(c.server.url, "ops", await tokenFor(dir, "ops", "editor"));
    const viewer = await connectClient(c.server.url, "ops", await tokenFor(dir, "ops", "viewer"));
    const heard = listen(viewer);
    try {
      viewer.sdoc.setStep({ id: "v", title: "sneaky", status: "todo", assignee: "", due: 0 });
      await waitFor(() => heard.denied.length > 0, 5000, "the viewer to be told");
      assert.match(heard.denied[0]!, "A viewer may not write");
      editor.sdoc.setStep({ id: "s1", title: "check", status: "todo", assignee: "", due: 0 });
      await waitFor(() => viewer.sdoc.workflow.has("s1"), 5000, "the viewer to see the edit");
      assert.equal(heard.closes, []);
      assert.not.ok(c.server.room("ops")!.sdoc.workflow.has("v"));
      assert.is(
        metric(await getText(`${http}/metrics`), "troupe_collab_viewer_writes_dropped_total"),
        1,
      );
    } finally {
      editor.destroy();
      viewer.destroy();
    }
  });
});

test.run();

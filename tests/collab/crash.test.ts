import { suite } from "uvu";
import * as assert from "uvu/assert";
import { startTroupe } from "../_support/cli.ts";
import { tempDir } from "../_support/nats.ts";
import { connectClient, tokenFor, waitFor } from "./_support.ts";

const test = suite("collab server kill -9");

function ids(list: { id: string }[]): Set<string> {
  return new Set(list.map((a) => a.id));
}

test("kill -9 with clients editing loses no acknowledged edit; the clients reconnect and converge", async () => {
  const dir = tempDir("troupe-collab-crash-");
  let server = startTroupe(["collab", "--port", "0", "--data-dir", dir.path]);
  try {
    await server.waitFor("/healthz");
    const port = Number(/127\.0\.0\.1:(\d+)\/collab/.exec(server.output())![1]);
    const url = `ws://127.0.0.1:${port}/collab`;
    const token = await tokenFor(dir.path, "ops", "editor");
    const writer = await connectClient(url, "ops", token);
    const observer = await connectClient(url, "ops", token);
    // The writer edits continuously (one annotation every 2 ms); an edit the observer received was
    // relayed by the server, which it does only once the journal holds it: acknowledged.
    let n = 0;
    const editing = setInterval(() => {
      writer.sdoc.addAnnotation({
        id: `w${n}`,
        t: n,
        channel: "BTC",
        text: `edit ${n}`,
        author: "w",
      });
      n++;
    }, 2);
    await waitFor(() => observer.sdoc.annotationList().length >= 200, 20_000, "200 relayed edits");
    server.signal("SIGKILL");
    await server.exited;
    // What the observer has now is all the server ever relayed.
    const acknowledged = ids(observer.sdoc.annotationList());
    observer.provider.disconnect();
    await new Promise((r) => setTimeout(r, 30)); // the writer edits on while the server is down
    clearInterval(editing);
    writer.provider.disconnect();
    assert.ok(n > acknowledged.size, `some edits were in flight at the kill (${n} made)`);

    server = startTroupe(["collab", "--port", String(port), "--data-dir", dir.path]);
    await server.waitFor("/healthz");
    // A fresh client, while the writer is still away: the server alone must hold every
    // acknowledged edit.
    const checker = await connectClient(url, "ops", token);
    const held = ids(checker.sdoc.annotationList());
    const lost = [...acknowledged].filter((id) => !held.has(id));
    assert.equal(lost, [], `acknowledged edits lost: ${lost.slice(0, 10).join(", ")}`);
    // The writer reconnects and hands over what the server never acknowledged: all converge.
    writer.provider.connect();
    observer.provider.connect();
    await waitFor(
      () =>
        checker.sdoc.annotationList().length === n && observer.sdoc.annotationList().length === n,
      10_000,
      `all ${n} edits everywhere`,
    );
    assert.equal(checker.doc.toJSON(), writer.doc.toJSON());
    writer.destroy();
    observer.destroy();
    checker.destroy();
  } finally {
    if (server.child.exitCode === null && server.child.signalCode === null) {
      server.signal("SIGTERM");
    }
    await server.exited;
    dir.remove();
  }
});

test.run();

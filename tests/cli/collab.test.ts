/**
 * `troupe collab` that cannot start (its port taken) says so in one line naming the address and
 * exits 1; it once printed a stack trace, the form kept for bugs.
 */
import { createServer } from "node:net";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { ROOT, runTroupe, startTroupe } from "../_support/cli.ts";
import { tempDir } from "../_support/nats.ts";

const test = suite("troupe collab");

test("a port in use is one line naming the address, exit 1", async () => {
  const dir = tempDir();
  const held = createServer();
  const port = await new Promise<number>((resolve) =>
    held.listen(0, "127.0.0.1", () => resolve((held.address() as { port: number }).port))
  );
  try {
    const r = await runTroupe(["collab", "--port", String(port), "--data-dir", dir.path]);
    assert.is(r.code, 1, r.stdout + r.stderr);
    const stderr = r.stderr.replace(/^npm warn.*\n/gm, "");
    assert.is(stderr.split("\n").filter(Boolean).length, 1, stderr);
    assert.match(
      stderr,
      new RegExp(
        `^troupe collab: cannot start the collaboration server on 127\\.0\\.0\\.1:${port}: .*` +
          `(EADDRINUSE|in use)`,
      ),
    );
  } finally {
    held.close();
    dir.remove();
  }
});

test("troupe collab --kinds gives the dashboard's page the findings the user's kinds declare", async () => {
  const dir = tempDir();
  const spread = join(ROOT, "examples", "spread", "spread.ts");
  const c = startTroupe(["collab", "--port", "0", "--data-dir", dir.path, "--kinds", spread]);
  try {
    await c.waitFor("; dashboard http://", 60_000);
    const origin = c.output().match(/dashboard (http:\/\/[^/]+)\//)![1]!;
    const html = await (await fetch(`${origin}/`)).text();
    const declared = html.match(
      /<script type="application\/json" id="troupe-finding-kinds">(.*?)<\/script>/,
    );
    assert.ok(declared, html.slice(0, 400));
    const list = JSON.parse(declared[1]!) as { actor: string; kind: { type: string } }[];
    assert.ok(
      list.some((d) => d.actor === "spread" && d.kind.type === "spread_break"),
      declared[1],
    );
    assert.ok(list.some((d) => d.actor === "anomaly" && d.kind.type === "anomaly"), declared[1]);
  } finally {
    await c.stop();
    dir.remove();
  }
});

test.run();

/**
 * `troupe up --feed remote-write`: no synthetic feed, the metrics receiver beside the host, the
 * block to paste into prometheus.yml printed, and a remote-write request taken.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { startTroupe } from "../_support/cli.ts";
import { tempDir } from "../_support/nats.ts";
import { nodeLoadWrite, receiverUrl } from "./_remote_write_run.ts";
import { upArgs } from "./_up.ts";

const test = suite("troupe up --feed remote-write");

test("troupe up --feed remote-write prints the remote_write block and takes a request", async () => {
  const dir = tempDir();
  const up = startTroupe(upArgs(join(dir.path, "up"), ["--no-nats", "--feed", "remote-write"]));
  try {
    await up.waitFor("send_interval", 60_000);
    const url = receiverUrl(up.output());
    assert.match(up.output(), "remote_write:");
    assert.not.match(up.output(), "injecting the synthetic");
    const body = nodeLoadWrite(["a"], { t0: Date.now(), values: [0.5] });
    const r = await fetch(url, { method: "POST", body });
    assert.is(r.status, 204, await r.text());
    const metrics = await (await fetch(url.replace("/api/v1/write", "/metrics"))).text();
    assert.match(metrics, 'troupe_ingest_samples_total{api="remote_write",outcome="journaled"} 1');
  } finally {
    await up.stop();
    dir.remove();
  }
});

test.run();

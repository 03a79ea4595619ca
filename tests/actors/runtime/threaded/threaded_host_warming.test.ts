/**
 * What a threaded host's scans are warming (issue 33 item 3: /healthz works as on one thread).
 * Each thread of a host running `bars` with scans runs a scan service that warms up after start
 * (the first scan's ordering, then a rehearsal of the scan path) and says so; a lone host names it
 * in /healthz's `warming`. The threads tell the main thread each change, which logs it and
 * gathers it into its /healthz, thread by thread, until every thread is warm. A real nats-server
 * and real worker threads.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { defaultHostConfig, ThreadedHost } from "../../../../actors/runtime/mod.ts";
import { WARMING } from "../../../../actors/scan/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../../../_support/nats.ts";
import { ACTOR_KINDS_MODULE } from "../../../../actors/mod.ts";

const test = suite("ThreadedHost: warming");

if (haveNatsServer("ThreadedHost warming")) {
  test("each thread's scan warm-up reaches the main thread, which names it by thread and says when each is warm", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const config = defaultHostConfig();
    config.host_id = "tw";
    config.nats = nats.url;
    config.data_dir = join(dir.path, "data");
    config.input = "core";
    config.http_port = 0;
    config.partitions = { count: 2, owned: [0, 1] };
    config.actors = { bars: {} };
    const lines: string[] = [];
    // The warming lines logged once the host was started, and what its warming() said then.
    const seen: Array<{ line: string; warming: string[] }> = [];
    const ref: { host?: ThreadedHost } = {};
    const host = ref.host = await ThreadedHost.start(config, 2, {
      kinds: ACTOR_KINDS_MODULE,
      scans: true,
      log: (line) => {
        lines.push(line);
        if (ref.host && /^thread \d: warm/.test(line)) {
          seen.push({ line, warming: ref.host.warming() });
        }
      },
    });
    try {
      // Every thread's warm-up starts with the first scan's ordering, told as its service starts.
      for (const i of [0, 1]) {
        assert.ok(lines.includes(`thread ${i}: warming: ${WARMING}`), lines.join("\n"));
      }
      const warm = () => lines.includes("thread 0: warm") && lines.includes("thread 1: warm");
      for (const t0 = Date.now(); !warm() && Date.now() - t0 < 20_000;) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(warm(), lines.join("\n"));
      // Whenever a thread told a change, the host's warming said it, under that thread's name.
      for (const { line, warming } of seen) {
        const [, i, what] = /^thread (\d): (?:warming: )?(.*)$/.exec(line)!;
        const mine = warming.filter((w) => w.startsWith(`thread ${i}: `));
        assert.equal(mine, what === "warm" ? [] : [`thread ${i}: ${what}`], line);
      }
      assert.equal(host.warming(), []);
      const health = await (await fetch(`http://127.0.0.1:${host.httpPort}/healthz`)).json() as {
        warming: string[];
      };
      assert.equal(health.warming, []);
    } finally {
      await host.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();

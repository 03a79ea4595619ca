import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import { runTroupe, startTroupe } from "../_support/cli.ts";
import { tempDir } from "../_support/nats.ts";

const test = suite("cli");

test("troupe --help lists the commands and exits 0; no command is a usage error", async () => {
  const help = await runTroupe(["--help"]);
  assert.is(help.code, 0);
  assert.match(help.stdout, "Commands:");
  assert.match(help.stdout, "run");
  assert.match(help.stdout, "bench");
  const none = await runTroupe([]);
  assert.is(none.code, 2);
});

test("an unknown command or option exits 2 and names it", async () => {
  const cmd = await runTroupe(["frobnicate"]);
  assert.is(cmd.code, 2);
  assert.match(cmd.stderr, '"frobnicate"');
  const opt = await runTroupe(["run", "--frobnicate"]);
  assert.is(opt.code, 2);
  assert.match(opt.stderr, "--frobnicate");
  assert.match(opt.stderr, "Run troupe run --help for its options.");
});

test("troupe run --help describes the config file and exits 0", async () => {
  const r = await runTroupe(["run", "--help"]);
  assert.is(r.code, 0);
  assert.match(r.stdout, "--config FILE");
  assert.match(r.stdout, "journal");
});

test("troupe run stops at startup with the file, the field and the value of a bad config, exit 2", async () => {
  const dir = tempDir();
  try {
    const cases: Array<[unknown, string, string]> = [
      [{ journal: { fsync: "sometimes" } }, "journal.fsync", "sometimes"],
      [{ actors: { stats: { every_samples: 0 } } }, "actors.stats.every_samples", "0"],
      [{ actors: { nope: {} } }, "actors.nope", "stats"],
      [{ partitions: { count: 4, owned: "2-9" } }, "2-9", "0 to 3"],
      [{ colour: "blue" }, "colour", "known fields"],
    ];
    for (const [i, [config, field, value]] of cases.entries()) {
      const path = join(dir.path, `bad${i}.json`);
      writeFileSync(path, JSON.stringify(config));
      const r = await runTroupe(["run", "--config", path]);
      assert.is(r.code, 2, r.stderr);
      assert.match(r.stderr, path);
      assert.match(r.stderr, field);
      assert.match(r.stderr, value);
    }
    const path = join(dir.path, "broken.json");
    writeFileSync(path, "{ not json");
    const r = await runTroupe(["run", "--config", path]);
    assert.is(r.code, 2);
    assert.match(r.stderr, "not valid JSON");
  } finally {
    dir.remove();
  }
});

test("troupe run runs every kind but those a config turns off, prints the kinds running, and serves scans on its HTTP port", async () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, "host.json");
    writeFileSync(
      path,
      JSON.stringify({
        data_dir: join(dir.path, "data"),
        http_port: 0,
        actors: { anomaly: { threshold: 0.4 }, coherence: { enabled: false } },
      }),
    );
    const run = startTroupe(["run", "--config", path]);
    try {
      await run.waitFor("troupe run: host host-1 running");
      const running = Object.keys(ACTOR_KINDS).filter((k) => k !== "coherence").join(", ");
      assert.match(run.output(), `running ${running} (off: coherence) on the in-process bus`);
      // The scan API beside /healthz: a scan of no symbols yet is done at once; a bad one is a 400.
      const url = /scans: POST (http:\/\/127\.0\.0\.1:\d+)\/scan\/stream/.exec(run.output())?.[1];
      assert.ok(url, run.output());
      const post = (body: unknown) =>
        fetch(`${url}/scan/stream`, { method: "POST", body: JSON.stringify(body) });
      const started = await post({ criteria: "close > 0", bar: "1s" });
      assert.is(started.status, 200);
      const { scanId } = await started.json() as { scanId: string };
      let stats: { state?: string; symbols_total?: number } = {};
      for (const t0 = Date.now(); stats.state !== "done" && Date.now() - t0 < 5000;) {
        stats = await (await fetch(`${url}/scan/stats/${scanId}`)).json();
      }
      assert.equal([stats.state, stats.symbols_total], ["done", 0]);
      const bad = await post({ criteria: "rsi(14 < 30" });
      assert.equal([bad.status, ((await bad.json()) as { field: string }).field], [
        400,
        "criteria",
      ]);
      run.signal("SIGINT");
      assert.is(await run.exited, 0, run.output());
    } finally {
      run.signal("SIGKILL");
    }
  } finally {
    dir.remove();
  }
});

test("troupe bench --help aligns its options; an unknown benchmark is a usage error", async () => {
  const help = await runTroupe(["bench", "--help"]);
  assert.is(help.code, 0);
  assert.match(help.stdout, /^ {2}-h, --help +Show this help$/m);
  assert.not.match(help.stdout, "--helpShow");

  const r = await runTroupe(["bench", "no_such_bench"]);
  assert.is(r.code, 2);
  assert.match(r.stderr, "Unknown benchmark");
});

test.run();

/**
 * `troupe ctl` against a real nats-server and a real host: an accepted change is acknowledged
 * (exit 0) and reaches the instance's configuration; a refused one prints the host's reason (exit
 * 1); a kind no host runs is refused at once with what the hosts run (exit 1); no host answering
 * is a failure (exit 1); a bad command line is a usage error (exit 2). When
 * --nats is absent, the command reads the URL `troupe up` left in .troupe/nats.url.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import {
  defaultHostConfig,
  type LaunchedHost,
  launchHost,
  NatsBus,
} from "../../actors/runtime/mod.ts";
import { encodeFrame, feedSubject } from "../../protocol/mod.ts";
import { parseValue } from "../../cli/commands/ctl.ts";
import { runTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";

const test = suite("troupe ctl");

test("--set values are read as numbers, booleans, null and JSON where they look like them", () => {
  assert.is(parseValue("0.4", "f"), 0.4);
  assert.is(parseValue("-3e2", "f"), -300);
  assert.is(parseValue("true", "f"), true);
  assert.is(parseValue("false", "f"), false);
  assert.is(parseValue("null", "f"), null);
  assert.equal(parseValue('{"eq":["eq_*"]}', "f"), { eq: ["eq_*"] });
  assert.equal(parseValue("[1,2]", "f"), [1, 2]);
  assert.is(parseValue("api-cpu", "f"), "api-cpu");
  assert.is(parseValue("1.2.3", "f"), "1.2.3");
  assert.throws(() => parseValue("{oops", "groups"), /--set groups: the value looks like JSON/);
});

test("a bad command line is a usage error (exit 2) that says what is wrong in one line", async () => {
  const cases: Array<[string[], string]> = [
    [["ctl", "--set", "a=1"], "Name the actor kind"],
    [["ctl", "stat", "--set", "a=1"], 'Unknown actor kind "stat"; the kinds are stats, anomaly'],
    [["ctl", "stats"], "--set FIELD=VALUE is required"],
    [["ctl", "stats", "--set", "every_samples"], 'must be FIELD=VALUE, got "every_samples"'],
    [["ctl", "stats", "--set", "a=1", "--set", "a=2"], 'field "a" twice'],
    [["ctl", "stats", "--key", "a b", "--set", "a=1"], "--key"],
  ];
  const results = await Promise.all(cases.map(([args]) => runTroupe(args)));
  cases.forEach(([args, text], i) => {
    const r = results[i]!;
    assert.is(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, text, args.join(" "));
    assert.is(
      r.stderr,
      `troupe ctl: ${r.stderr.split("\n")[0]!.slice(12)}\n` +
        "Run troupe ctl --help for its options.\n",
    );
  });
});

if (haveNatsServer("troupe ctl against nats-server")) {
  let nats: Awaited<ReturnType<typeof startTestNats>>;
  let launched: LaunchedHost;
  const dir = tempDir("troupe-ctl-cli-");

  test.before(async () => {
    nats = await startTestNats();
    const config = defaultHostConfig();
    config.host_id = "ctl-host";
    config.nats = nats.url;
    config.data_dir = join(dir.path, "host");
    config.input = "core";
    config.actors = { stats: { every_samples: 1000 }, anomaly: {} };
    launched = await launchHost(config, ACTOR_KINDS, { log: () => {} });
    // One frame, so that the instance stats/api-cpu exists.
    const bus = await NatsBus.connect(nats.url);
    const frame = {
      channel: "api-cpu",
      seq0: 0,
      t: new Float64Array([1_700_000_000_000_000]),
      v: new Float64Array([1]),
    };
    bus.publish(feedSubject("test", "api-cpu"), encodeFrame(frame, { id: "f-1", src: "test" }));
    await bus.flush();
    await bus.close();
    for (let i = 0; i < 200 && !launched.host.instance("stats", "api-cpu"); i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
  });
  test.after(async () => {
    await launched?.close();
    await nats?.cleanup();
    dir.remove();
  });

  /** The configuration of stats/api-cpu once it has applied what was sent. */
  const statsConfig = async (expect: number): Promise<unknown> => {
    const inst = () => launched.host.instance("stats", "api-cpu")!;
    for (
      let i = 0;
      i < 200 && (inst().config as { every_samples: number }).every_samples !== expect;
      i++
    ) {
      await new Promise((r) => setTimeout(r, 25));
    }
    return inst().config;
  };

  test("an accepted change is acknowledged (exit 0) and reaches the instance", async () => {
    const r = await runTroupe([
      "ctl",
      "stats",
      "--key",
      "api-cpu",
      "--set",
      "every_samples=7",
      "--nats",
      nats.url,
    ]);
    assert.is(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      'troupe ctl: ctl-host accepted stats api-cpu {"every_samples":7}: applied to stats/api-cpu',
    );
    assert.equal(await statsConfig(7), { every_samples: 7 });
  });

  test("a refused change prints the host's reason and exits 1; the configuration stays; it is counted, not a dead letter", async () => {
    const bus = await NatsBus.connect(nats.url);
    const dead: string[] = [];
    bus.subscribe("troupe.dlq.>", (m) => dead.push(m.subject));
    await bus.flush();
    const cases: Array<[string[], string[]]> = [
      [["stats", "--set", "every_samples=0"], ["refused stats", "every_samples", ">= 1", "0"]],
      [["anomaly", "--set", "threshold=high"], ["refused anomaly", "threshold", "high"]],
      [["stats", "--set", "every=5"], ["refused stats", 'Unknown field "ctl.stats.every"']],
    ];
    for (const [args, texts] of cases) {
      const r = await runTroupe(["ctl", ...args, "--nats", nats.url]);
      assert.is(r.code, 1, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      for (const text of texts) assert.match(r.stderr, text, args.join(" "));
      assert.not.match(r.stderr, "    at ", "no stack trace");
    }
    assert.equal(await statsConfig(7), { every_samples: 7 });
    await bus.flush();
    await bus.close();
    assert.equal(dead, [], "a refused control message is no dead letter");
    const text = await launched.host.metrics.registry.metrics();
    assert.match(text, 'troupe_control_refused_total{kind="stats",host="ctl-host"} 2');
    assert.match(text, 'troupe_control_refused_total{kind="anomaly",host="ctl-host"} 1');
    assert.not.match(text, /troupe_dead_letters_total\{[^}]*\} [1-9]/);
  });

  test("without --nats, ctl finds the server in .troupe/nats.url, as troupe up leaves it", async () => {
    const cwd = join(dir.path, "work");
    mkdirSync(join(cwd, ".troupe"), { recursive: true });
    writeFileSync(join(cwd, ".troupe", "nats.url"), `${nats.url}\n`);
    const r = await runTroupe(["ctl", "stats", "--set", "every_samples=9"], { cwd });
    assert.is(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /accepted stats \{"every_samples":9\}: applied to [1-9]\d* running stats instance\(s\) and the configuration of those to come/,
    );
    assert.equal(await statsConfig(9), { every_samples: 9 });
  });

  test("a kind no host runs is refused at once, naming the kind and what the hosts run (exit 1)", async () => {
    // The timeout is long: the hosts' passes answer, and ctl does not wait it out.
    for (const key of [[], ["--key", "api-cpu"]]) {
      const r = await runTroupe([
        "ctl",
        "collapse",
        ...key,
        "--set",
        "hazard=0.01",
        "--nats",
        nats.url,
        "--timeout",
        "20000",
      ]);
      assert.is(r.code, 1, r.stderr);
      const what = key.length ? "collapse api-cpu" : "collapse";
      assert.is(
        r.stderr,
        `troupe ctl: ${what} {"hazard":0.01} not applied: no host runs collapse ` +
          "(ctl-host runs anomaly, stats)\n",
      );
    }
  });

  test("no host answering is a failure (exit 1) that says so", async () => {
    const empty = await startTestNats();
    try {
      const r = await runTroupe([
        "ctl",
        "collapse",
        "--set",
        "hazard=0.01",
        "--nats",
        empty.url,
        "--timeout",
        "300",
      ]);
      assert.is(r.code, 1, r.stderr);
      assert.match(r.stderr, "no host answered on troupe.ctl.collapse");
    } finally {
      await empty.cleanup();
    }
    const down = await runTroupe(["ctl", "stats", "--set", "a=1", "--nats", "nats://127.0.0.1:1"]);
    assert.is(down.code, 1, down.stderr);
    assert.match(down.stderr, "cannot connect to NATS at nats://127.0.0.1:1");
  });
}

test.run();

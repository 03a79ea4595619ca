/**
 * docs/write_your_own_actor.md as written: its kind (§2) and its host.json (§4), nothing added,
 * run by `troupe run --config host.json` against a real nats-server while frames flow, killed with
 * SIGKILL mid-run and started again while they still flow. §5 promises that nothing is lost or
 * applied twice: the findings it published are those `runKind` from the test kit makes of the same
 * frames, every one, bit for bit.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { connect } from "@nats-io/transport-node";
import {
  type AnyActorDefinition,
  decodeEnvelope,
  encodeFrame,
  encodeValue,
  feedSubject,
  findingPattern,
  type SampleFrame,
} from "../../protocol/mod.ts";
import { runKind } from "../../sim/kit/mod.ts";
import { ROOT, type RunningTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats } from "../_support/nats.ts";

const test = suite("the walkthrough's host under kill -9");

const DOC = join(ROOT, "docs", "write_your_own_actor.md");
const CHANNELS = 6;
const FRAMES_PER_CHANNEL = 120;
const SAMPLES_PER_FRAME = 10;

/** The fenced block of `lang` that follows the first line holding `after` in the walkthrough. */
function docBlock(after: string, lang: string): string {
  const text = readFileSync(DOC, "utf8");
  const at = text.indexOf(after);
  assert.ok(at >= 0, `${DOC} says "${after}"`);
  const open = text.indexOf("```" + lang + "\n", at);
  const close = text.indexOf("\n```", open + 1);
  return text.slice(open + lang.length + 4, close + 1);
}

/** Frame `f` of `channel`: a small wobble with a jump of 20 every 37 samples. */
function frameOf(channel: string, f: number): SampleFrame {
  const seq0 = f * SAMPLES_PER_FRAME;
  const t = Float64Array.from({ length: SAMPLES_PER_FRAME }, (_, i) => 1.7e15 + (seq0 + i) * 1e4);
  const v = Float64Array.from(t, (_, i) => ((seq0 + i) % 37 === 36 ? 20 : ((seq0 + i) % 7) * 0.1));
  return { channel, seq0, t, v };
}

interface Seen {
  stream: string;
  ts: number;
  body: string;
}

/** `level_high` findings by instance, each as its time and body's bytes. */
function byStream(list: Seen[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const s of list) out.set(s.stream, [...out.get(s.stream) ?? [], `${s.ts} ${s.body}`]);
  return out;
}

if (haveNatsServer("the walkthrough's host under kill -9")) {
  test("the walkthrough's kind and host.json lose no finding and double none across a kill -9", async () => {
    const nats = await startTestNats();
    // In the repository, where `troupe` resolves to this checkout, as in a project that installed it.
    const project = mkdtempSync(join(ROOT, "tests", ".walkthrough-"));
    const nc = await connect({ servers: nats.url });
    let host: RunningTroupe | undefined;
    try {
      mkdirSync(join(project, "actors"));
      const levelTs = docBlock("Write `actors/level.ts`", "ts");
      writeFileSync(join(project, "actors", "level.ts"), levelTs);
      const hostJson = JSON.parse(docBlock("`host.json` names your module", "json"));
      assert.equal(Object.keys(hostJson).sort(), ["actors", "kinds", "nats"]);
      // The one change: the test's nats-server for the doc's.
      hostJson.nats = nats.url;
      writeFileSync(join(project, "host.json"), JSON.stringify(hostJson));

      const seen: Seen[] = [];
      const ids = new Set<string>();
      nc.subscribe(findingPattern("level_high"), {
        callback: (_err, m) => {
          const env = decodeEnvelope(m.data);
          if (env.type !== "level_high" || ids.has(env.id)) return;
          ids.add(env.id); // a restarted host may publish again what it published before
          seen.push({
            stream: `level/${m.subject.split(".").at(-1)}`,
            ts: env.ts,
            body: Buffer.from(encodeValue(env.body)).toString("hex"),
          });
        },
      });
      const start = () => startTroupe(["run", "--config", "host.json"], project);
      host = start();
      await host.waitFor("troupe run: host host-1 running", 60_000);
      assert.not.match(host.output(), 'input "core"');

      const frames: SampleFrame[] = [];
      for (let f = 0; f < FRAMES_PER_CHANNEL; f++) {
        for (let c = 0; c < CHANNELS; c++) {
          const frame = frameOf(`cpu-${c}`, f);
          frames.push(frame);
          nc.publish(
            feedSubject("metrics", frame.channel),
            encodeFrame(frame, { id: `w:${frame.channel}:${frame.seq0}`, src: "test" }),
          );
        }
        if (f === 40) {
          await nc.flush();
          host.signal("SIGKILL");
          await host.exited;
        }
        if (f === 80) {
          host = start(); // the frames keep coming while it starts
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      await nc.flush();
      await host.waitFor("troupe run: host host-1 running", 60_000);

      const levelUrl = pathToFileURL(join(project, "actors", "level.ts")).href;
      const { default: level } = await import(levelUrl) as { default: AnyActorDefinition };
      const want: Seen[] = runKind(level, frames, { config: hostJson.actors.level })
        .flatMap((s) => s.outputs)
        .filter((o) => o.type === "level_high")
        .map((o) => {
          const env = decodeEnvelope(o.data);
          return {
            stream: o.stream,
            ts: env.ts,
            body: Buffer.from(encodeValue(env.body)).toString("hex"),
          };
        });
      assert.ok(want.length >= 100, `${want.length} findings expected`);
      const deadline = Date.now() + 60_000;
      while (seen.length < want.length && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
      }
      await new Promise((r) => setTimeout(r, 500)); // none more than expected comes late
      assert.is(seen.length, want.length, `${seen.length} of ${want.length} findings`);
      assert.equal(byStream(seen), byStream(want));
    } finally {
      await host?.stop();
      await nc.close();
      await nats.cleanup();
      rmSync(project, { recursive: true, force: true });
    }
  });
}

test.run();

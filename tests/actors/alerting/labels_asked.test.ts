/**
 * A channel's first alert waits for its source labels to be looked up in the
 * `troupe_channel_labels` bucket (a real nats-server) when the reader has not seen them yet, so
 * on-call gets one page with `job` and `instance`, not a label-less page and then a labelled one.
 * The reader here opens the bucket without its watch: only the lookup can find the labels. A
 * channel the bucket does not hold (an injected feed) is looked up once and alerts without labels;
 * a lookup that never answers holds an alert no longer than LABELS_ASK_MS_MAX.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  LABELS_ASK_MS_MAX,
  parseAlertingConfig,
  runAlerting,
} from "../../../actors/alerting/mod.ts";
import {
  defaultIncidentConfig,
  readIncidentFinding,
  runIncidentStage,
} from "../../../actors/incidents/mod.ts";
import { openChannelLabels } from "../../../actors/ingest/mod.ts";
import { InProcessBus, NatsBus } from "../../../actors/runtime/mod.ts";
import { until, WebhookReceiver } from "../../_support/alertmanager.ts";
import { anomalyFinding } from "../../_support/findings.ts";
import { haveNatsServer, natsForSuite } from "../../_support/nats.ts";

const test = suite("alert labels asked for");
const it = haveNatsServer("alert labels asked for") ? test : test.skip;
const nats = natsForSuite(test, it);

const LABELLED = "h7-node-node_load1";
const BARE = "injected_feed_1";

/** A sender on an in-process stage posting to a webhook; `ask` looks labels up. */
async function withSender(
  ask: (channels: readonly string[]) => Promise<void>,
  get: (channel: string) => Record<string, string> | undefined,
  run: (
    fire: (channel: string) => void,
    hook: WebhookReceiver,
  ) => Promise<void>,
): Promise<void> {
  const hook = await new WebhookReceiver().listen();
  const bus = new InProcessBus();
  const { stage, stop } = runIncidentStage(bus, {
    config: { ...defaultIncidentConfig, for_us: 0, reorder_us: 0, group_window_us: 1e6 },
  });
  const alerting = await runAlerting(bus, {
    config: parseAlertingConfig({
      webhooks: [{ url: hook.url }],
      resend_ms: 60_000,
      paging: { budget: false, page_kinds: ["anomaly"] },
    }),
    stage,
    log: () => {},
    groupWindowUs: 1e6,
    sourceLabels: get,
    askLabels: ask,
  });
  let t = Date.now() * 1000;
  const fire = (channel: string) => {
    stage.takeFinding(readIncidentFinding(anomalyFinding(channel, t))!);
    t += 10_000_000;
    stage.flush(t);
  };
  try {
    await run(fire, hook);
  } finally {
    await alerting.stop();
    stop();
    await hook.close();
  }
}

/** Every alert of `channel` the webhook was sent. */
function sentOf(hook: WebhookReceiver, channel: string) {
  return hook.bodies.flatMap((b) => b.alerts).filter((a) => a.labels.channel === channel);
}

it("the first alert of a channel the reader has not seen carries the labels the bucket holds", async () => {
  const writer = await NatsBus.connect(nats.url, { name: "labels-writer" });
  const reader = await NatsBus.connect(nats.url, { name: "labels-reader" });
  const written = await openChannelLabels(writer, { read: false });
  const book = await openChannelLabels(reader, { read: false });
  try {
    await written.put(LABELLED, [
      { name: "__name__", value: "node_load1" },
      { name: "instance", value: "10.0.0.7:9100" },
      { name: "job", value: "node" },
    ]);
    const asked: string[] = [];
    const get = (channel: string) => {
      const l = book.get(channel);
      return l && Object.fromEntries(l.map((x) => [x.name, x.value]));
    };
    await withSender(
      (channels) => {
        asked.push(...channels);
        return book.ask(channels);
      },
      get,
      async (fire, hook) => {
        fire(LABELLED);
        fire(BARE);
        await until(
          () => sentOf(hook, LABELLED).length > 0 && sentOf(hook, BARE).length > 0,
          10_000,
          "both channels' alerts at the webhook",
        );
        // Found by the lookup (this reader has no watch), not sent past its bound without them.
        assert.ok(book.get(LABELLED) !== undefined, "the lookup kept the labels it found");
        const labelled = sentOf(hook, LABELLED);
        assert.ok(labelled.every((a) => a.labels.job === "node"), JSON.stringify(labelled));
        assert.is(labelled[0]!.labels.instance, "10.0.0.7:9100");
        assert.is(sentOf(hook, BARE)[0]!.labels.job, undefined);
        // The bare channel fires again: asked once, not twice.
        fire(BARE);
        fire(LABELLED);
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(asked.sort(), [LABELLED, BARE]);
      },
    );
  } finally {
    await book.close();
    await written.close();
    await reader.close();
    await writer.close();
  }
});

it("a lookup that never answers holds the alert no longer than its bound", async () => {
  await withSender(() => new Promise<void>(() => {}), () => undefined, async (fire, hook) => {
    const t0 = performance.now();
    fire(BARE);
    await until(() => sentOf(hook, BARE).length > 0, 10_000, "the alert at the webhook");
    const waited = performance.now() - t0;
    assert.ok(waited >= LABELS_ASK_MS_MAX - 50, `held ${waited} ms`);
  });
});

test.run();

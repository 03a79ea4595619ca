/**
 * The metrics receiver as `troupe run` (the config file's `remote_write` block) and `troupe up
 * --feed remote-write` start it, beside a host: on NATS, on a worker thread of its own with its
 * own connection (ReceiverThread), durable (the feed stream made if it is not there), so its
 * acknowledgements never wait behind the host's detectors; on the in-process bus, in the host's
 * thread on that bus. The `remote_write` block is printed for the user to paste into
 * prometheus.yml.
 */
import { describeError, ensureFeedStream, type NatsAuth, NatsBus } from "../actors/runtime/mod.ts";
import { portOr } from "./up_nats.ts";
import {
  IngestServer,
  type IngestSettings,
  openChannelLabels,
  parseIngestSettings,
  ReceiverThread,
} from "../actors/ingest/mod.ts";
import type { Bus } from "../protocol/mod.ts";

/** A started receiver and what to say about it. */
export interface StartedReceiver {
  /** The port it listens on. */
  port: number;
  /** One line: where it listens, whether what it acknowledges is durable. */
  line: string;
  /** The blocks to paste into prometheus.yml and an OpenTelemetry Collector's config. */
  block: string;
  /** Resolves when the receiver stops without being asked to (its thread failed). */
  fatal: Promise<Error>;
  /** Stops it; resolves with the samples it journaled in all. */
  close(): Promise<{ journaled: number }>;
}

/** Where a receiver runs. */
export interface ReceiverPlace {
  /**
   * The NATS server URL (list) of the host: the receiver runs on a thread of its own, on a
   * connection of its own. Undefined: the in-process bus, `bus`.
   */
  nats: string | undefined;
  /** The credentials for `nats`. */
  natsAuth?: NatsAuth | undefined;
  /** The host's bus: the receiver's when there is no NATS URL. */
  bus?: Bus;
  /** The name the NATS server shows for the receiver's connection. */
  name: string;
  /** Defaults under the block (the host's channel limit). */
  defaults?: Omit<Partial<IngestSettings>, "match">;
}

/** Starts the receiver the `remote_write` block `raw` sets up, where `place` says. */
export async function startReceiver(
  raw: Record<string, unknown>,
  place: ReceiverPlace,
): Promise<StartedReceiver> {
  const defaults = place.defaults ?? {};
  if (place.nats !== undefined) {
    const thread = await ReceiverThread.start(raw, {
      nats: place.nats,
      natsAuth: place.natsAuth,
      name: place.name,
      defaults,
    });
    return described(thread.settings, {
      port: thread.port,
      durable: true,
      fatal: thread.fatal,
      close: () => thread.stop(),
    });
  }
  const settings = parseIngestSettings(raw, "remote_write", defaults);
  const bus = place.bus;
  if (bus === undefined) throw new Error("Cannot start the metrics receiver: no NATS URL nor bus");
  const durable = bus instanceof NatsBus;
  if (durable) await ensureFeedStream(bus.nc);
  // Each new channel's source labels, for its alerts (the alert sender reads them).
  const labels = await openChannelLabels(bus, { read: false });
  const server = new IngestServer(settings, { bus, durable, src: "remote-write", labels });
  try {
    await server.start();
  } catch (err) {
    await labels.close();
    throw err;
  }
  return described(settings, {
    port: server.port,
    durable,
    fatal: new Promise<Error>(() => {}),
    close: async () => {
      await server.stop().finally(() => labels.close());
      const values = (await server.metrics.samples.get()).values;
      const journaled = values.filter((v) => v.labels.outcome === "journaled")
        .reduce((n, v) => n + v.value, 0);
      return { journaled };
    },
  });
}

/** A started receiver with its line and the block to paste. */
function described(
  settings: IngestSettings,
  r: Omit<StartedReceiver, "line" | "block"> & { durable: boolean },
): StartedReceiver {
  const url = `http://${settings.host}:${r.port}`;
  const line = `receiving Prometheus remote write on ${url}/api/v1/write as feed ` +
    `"${settings.feed}" (${
      r.durable
        ? "acknowledged once on the feed stream"
        : "in-process bus: acknowledged when published, not durable"
    }); its metrics on ${url}/metrics`;
  return {
    port: r.port,
    line,
    block: pasteBlock(url, settings),
    fatal: r.fatal,
    close: r.close,
  };
}

/** The metrics receiver's port under `troupe up --feed remote-write`, when it is free. */
const UP_RECEIVER_PORT = 9201;

/**
 * `troupe up --feed remote-write`'s input: the receiver, on port 9201 or a free one, its lines
 * printed once it listens. It is the session's only input, so one that cannot start, or whose
 * thread ends unasked, resolves `failed` with the reason (troupe up then stops and exits 1).
 */
export function upReceiver(
  bus: Bus,
  nats: string | undefined,
  natsAuth?: NatsAuth,
): { stop(): Promise<() => string>; failed: Promise<string> } {
  let fail: (why: string) => void = () => {};
  const failed = new Promise<string>((resolve) => (fail = resolve));
  const starting = portOr(UP_RECEIVER_PORT).then((port) =>
    startReceiver({ port }, { nats, natsAuth, bus, name: "troupe-up-receiver" })
  ).then(
    (receiver) => {
      console.log(`troupe up: ${receiver.line}\n${receiver.block}`);
      void receiver.fatal.then((err) => fail(describeError(err)));
      return receiver;
    },
    (err) => {
      fail(`cannot start the metrics receiver: ${describeError(err)}`);
      return undefined;
    },
  );
  return {
    failed,
    async stop() {
      const receiver = await starting;
      if (!receiver) return () => "no metrics receiver ran";
      const { journaled } = await receiver.close();
      return () => `the metrics receiver journaled ${journaled} samples`;
    },
  };
}

/** What to paste into prometheus.yml (and an OpenTelemetry Collector) to send to `url`. */
export function pasteBlock(url: string, settings: IngestSettings): string {
  const auth = settings.bearerToken !== undefined
    ? [`    authorization:`, `      credentials: "${settings.bearerToken}"`]
    : settings.basicAuth !== undefined
    ? [
      `    basic_auth:`,
      `      username: "${settings.basicAuth.username}"`,
      `      password: "${settings.basicAuth.password}"`,
    ]
    : [];
  return [
    "# prometheus.yml",
    "remote_write:",
    `  - url: ${url}/api/v1/write`,
    ...auth,
    "    metadata_config:",
    "      send_interval: 1m",
  ].join("\n");
}

/**
 * The metrics receiver as `troupe run` (the config file's `remote_write` block) and `troupe up
 * --feed remote-write` start it, beside a host and on its bus: durable when the bus is NATS (the
 * feed stream made if it is not there), and the `remote_write` block printed for the user to
 * paste into prometheus.yml, with its OpenTelemetry Collector counterpart.
 */
import { describeError, ensureFeedStream, NatsBus } from "../actors/runtime/mod.ts";
import { portOr } from "./up_nats.ts";
import {
  IngestServer,
  type IngestSettings,
  openChannelLabels,
  parseIngestSettings,
} from "../actors/ingest/mod.ts";
import type { Bus } from "../protocol/mod.ts";

/** A started receiver and what to say about it. */
export interface StartedReceiver {
  server: IngestServer;
  /** One line: where it listens, whether what it acknowledges is durable. */
  line: string;
  /** The blocks to paste into prometheus.yml and an OpenTelemetry Collector's config. */
  block: string;
  close(): Promise<void>;
}

/** Starts the receiver the `remote_write` block `raw` sets up, on `bus`. */
export async function startReceiver(
  raw: Record<string, unknown>,
  bus: Bus,
  defaults: Partial<IngestSettings> = {},
): Promise<StartedReceiver> {
  const settings = parseIngestSettings(raw, "remote_write", defaults);
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
  const url = `http://${settings.host}:${server.port}`;
  const line = `receiving Prometheus remote write on ${url}/api/v1/write as feed ` +
    `"${settings.feed}" (${
      durable
        ? "acknowledged once on the feed stream"
        : "in-process bus: acknowledged when published, not durable"
    }); its metrics on ${url}/metrics`;
  return {
    server,
    line,
    block: pasteBlock(url, settings),
    close: () => server.stop().finally(() => labels.close()),
  };
}

/**
 * Starts the receiver of `troupe run`'s `remote_write` block on a NATS connection of its own (the
 * threaded host's main thread has no bus: its hosts run on the worker threads), durable as on a
 * one-thread host; closing it closes the connection too.
 */
export async function startReceiverOnNats(
  raw: Record<string, unknown>,
  nats: string,
  name: string,
  defaults: Partial<IngestSettings> = {},
): Promise<StartedReceiver> {
  const bus = await NatsBus.connect(nats, { name });
  try {
    const receiver = await startReceiver(raw, bus, defaults);
    return {
      ...receiver,
      async close() {
        try {
          await receiver.close();
        } finally {
          await bus.close().catch(() => {});
        }
      },
    };
  } catch (err) {
    await bus.close().catch(() => {});
    throw err;
  }
}

/** The metrics receiver's port under `troupe up --feed remote-write`, when it is free. */
const UP_RECEIVER_PORT = 9201;

/**
 * `troupe up --feed remote-write`'s input: the receiver, on port 9201 or a free one, its lines
 * printed once it listens. One that cannot start says why in one line and the host runs on, as a
 * synthetic feed that stops does.
 */
export function upReceiver(bus: Bus): { stop(): Promise<() => string> } {
  const starting = portOr(UP_RECEIVER_PORT).then((port) => startReceiver({ port }, bus)).then(
    (receiver) => {
      console.log(`troupe up: ${receiver.line}\n${receiver.block}`);
      return receiver;
    },
    (err) => {
      console.error(
        `troupe up: cannot start the metrics receiver: ${describeError(err)}; the host runs on ` +
          `(Ctrl-C to stop)`,
      );
      return undefined;
    },
  );
  return {
    async stop() {
      const receiver = await starting;
      if (!receiver) return () => "no metrics receiver ran";
      await receiver.close();
      const values = (await receiver.server.metrics.samples.get()).values;
      const journaled = values.filter((v) => v.labels.outcome === "journaled")
        .reduce((n, v) => n + v.value, 0);
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

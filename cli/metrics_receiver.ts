/**
 * The metrics receiver as `troupe run` (the config file's `remote_write` block) and `troupe up
 * --feed remote-write` start it, beside a host: on NATS, on a worker thread of its own with its
 * own connection (ReceiverThread), durable (the feed stream made if it is not there), so its
 * acknowledgements never wait behind the host's detectors; on the in-process bus, in the host's
 * thread on that bus. The `remote_write` block for the user to paste into prometheus.yml is
 * printed, or, when it holds the receiver's credentials, written to a file of the data directory
 * whose path is printed.
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
import { writeReceiverBlock } from "./receiver_block_file.ts";
import { UP_RECEIVER_PORT, type UpReceiverSettings, upReceiverToken } from "./up_receiver.ts";

/** A started receiver and what to say about it. */
export interface StartedReceiver {
  /** The port it listens on. */
  port: number;
  /** One line: where it listens, whether what it acknowledges is durable. */
  line: string;
  /** The blocks to paste into prometheus.yml and an OpenTelemetry Collector's config. */
  block: string;
  /** Whether the block holds a secret (the receiver asks a bearer token or basic auth). */
  secret: boolean;
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
  // Each new channel's source labels, for its alerts (the alert sender reads them); and the
  // record of the channels admitted before, which the receiver counts under its limit.
  const labels = await openChannelLabels(bus, { read: "start" });
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
  r: Omit<StartedReceiver, "line" | "block" | "secret"> & { durable: boolean },
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
    secret: settings.bearerToken !== undefined || settings.basicAuth !== undefined,
    fatal: r.fatal,
    close: r.close,
  };
}

/**
 * What a command prints of a started receiver: its line, and the block to paste, or, when the
 * block holds a secret, where in `dataDir` it is written for the user to copy from.
 */
export function receiverLines(receiver: StartedReceiver, dataDir: string): string {
  if (!receiver.secret) return `${receiver.line}\n${receiver.block}`;
  let path: string;
  try {
    path = writeReceiverBlock(dataDir, receiver.block);
  } catch (err) {
    // The receiver runs on: only the block, which holds a secret, is not shown.
    return `${receiver.line}; cannot write the remote_write block for prometheus.yml to ` +
      `${dataDir}: ${describeError(err)}`;
  }
  return `${receiver.line}; the remote_write block for prometheus.yml, with the receiver's ` +
    `credentials, is in ${path} (readable by this user only)`;
}

/**
 * `troupe up --feed remote-write`'s input: the receiver, on the port asked or on 9201 (a free one
 * when it is taken), taking the series `--match` selects, asking its bearer token (up_receiver.ts);
 * its line printed once it listens, its block written to the data directory. It is the session's
 * only input, so one that cannot start, or whose thread ends unasked, resolves `failed` with the
 * reason (troupe up then stops and exits 1).
 */
export function upReceiver(
  bus: Bus,
  place: {
    nats: string | undefined;
    natsAuth?: NatsAuth | undefined;
    dataDir: string;
    receiver: UpReceiverSettings;
  },
): { stop(): Promise<() => string>; failed: Promise<string> } {
  const { nats, natsAuth, dataDir, receiver: asked } = place;
  let fail: (why: string) => void = () => {};
  const failed = new Promise<string>((resolve) => (fail = resolve));
  const starting = (async () => {
    const port = asked.port ?? await portOr(UP_RECEIVER_PORT);
    const block: Record<string, unknown> = {
      port,
      match: asked.match,
      bearer_token: upReceiverToken(asked, dataDir),
    };
    if (asked.historyUrl !== undefined) block.history_url = asked.historyUrl;
    return await startReceiver(block, { nats, natsAuth, bus, name: "troupe-up-receiver" });
  })().then(
    (receiver) => {
      console.log(`troupe up: ${receiverLines(receiver, dataDir)}`);
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
  // JSON's strings are YAML's double-quoted scalars: a quote or backslash in a password is kept.
  const q = (text: string) => JSON.stringify(text);
  const auth = settings.bearerToken !== undefined
    ? [`    authorization:`, `      credentials: ${q(settings.bearerToken)}`]
    : settings.basicAuth !== undefined
    ? [
      `    basic_auth:`,
      `      username: ${q(settings.basicAuth.username)}`,
      `      password: ${q(settings.basicAuth.password)}`,
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

/**
 * The metrics receiver a cluster runs beside its hosts (the configuration's `remote_write` block):
 * on NATS, on a worker thread of its own with its own connection (ReceiverThread), durable (the
 * feed stream made if it is not there), so its acknowledgements never wait behind the hosts'
 * detectors; on the in-process bus, in this thread on that bus. It says where it listens and
 * gives the block to paste into prometheus.yml; the command decides where that block goes.
 */
import {
  ensureFeedStream,
  type FeedStreamOptions,
  type NatsAuth,
  NatsBus,
} from "../runtime/mod.ts";
import {
  IngestServer,
  type IngestSettings,
  openChannelLabels,
  parseIngestSettings,
  ReceiverThread,
} from "../ingest/mod.ts";
import type { Bus } from "../../protocol/mod.ts";
import { pasteBlock } from "./paste_block.ts";

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
  /** The feed stream's replicas and limits (the host's), should the receiver make it. */
  feedStream?: FeedStreamOptions;
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
      ...(place.feedStream ? { feedStream: place.feedStream } : {}),
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
  if (durable) await ensureFeedStream(bus.nc, place.feedStream);
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

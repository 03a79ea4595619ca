/**
 * The metrics receiver's worker thread (started by receiver_thread.ts): the whole of a request's
 * path, off the host's event loop. It listens on the receiver's port, reads, decodes and matches
 * each request, names its channels, journals its batches on the feed stream over a NATS
 * connection of its own and answers once the stream has them; it writes new channels' labels,
 * tells the incident stage of stale markers and serves the receiver's `/metrics` with the scores
 * back out. So an acknowledgement never waits behind the detectors' work on the host's thread.
 */
import process from "node:process";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { describeError, ensureFeedStream, NatsBus, redactNatsUrl } from "../runtime/mod.ts";
import { type ChannelLabelsBook, openChannelLabels } from "./channel_labels_book.ts";
import { IngestServer } from "./ingest_server.ts";
import { parseIngestSettings } from "./ingest_settings.ts";
import { ThreadLifecycle } from "../threads/mod.ts";
import type {
  ReceiverStarted,
  ReceiverStopped,
  ReceiverThreadData,
  ToReceiverThread,
} from "./_receiver_thread_wire.ts";

// Only in the receiver's worker: a module that imports this one elsewhere starts nothing.
if (!isMainThread && parentPort && (workerData as ReceiverThreadData | undefined)?.receiverThread) {
  void runReceiverThread(parentPort, workerData as ReceiverThreadData);
}

async function runReceiverThread(
  port: NonNullable<typeof parentPort>,
  data: ReceiverThreadData,
): Promise<void> {
  // What the thread has opened, which its stop closes. A stop asked while starting waits for the
  // start to end (the lifecycle holds it); the main thread ends the worker once told "stopped".
  const at: { bus?: NatsBus; labels?: ChannelLabelsBook; server?: IngestServer } = {};
  const life = new ThreadLifecycle<ReceiverStarted, { graceMs: number }, ReceiverStopped>(port, {
    stop: (ask) => void stop(ask.graceMs),
  });
  // An error nothing caught (a bug) is said to the main thread in one line, which ends the thread
  // and its host: left to the runtime, Deno printed it with its stack and Node said only its
  // message, while the server might have gone on answering with some of its parts broken.
  const fail = (err: unknown) => life.fail(`an error nothing caught: ${describeError(err)}`);
  process.on("uncaughtException", fail);
  process.on("unhandledRejection", fail);
  const stop = async (graceMs: number) => {
    let journaled = 0;
    try {
      if (at.server) {
        await at.server.stop(graceMs);
        for (const v of (await at.server.metrics.samples.get()).values) {
          if (v.labels.outcome === "journaled") journaled += v.value;
        }
      }
      await at.labels?.close();
    } finally {
      await at.bus?.close().catch(() => {});
      life.stopped({ journaled });
    }
  };
  port.on("message", (m: ToReceiverThread) => life.take(m));
  try {
    const settings = parseIngestSettings(data.raw, "remote_write", data.defaults);
    const bus = at.bus = await NatsBus.connect(data.nats, {
      name: data.name,
      auth: data.natsAuth,
    }).catch((err) => {
      throw new Error(
        `Cannot connect to NATS at ${redactNatsUrl(data.nats)}: ${describeError(err)}`,
      );
    });
    await ensureFeedStream(bus.nc, data.feedStream);
    // Each new channel's source labels, for its alerts (the alert sender reads them); and the
    // record of the channels admitted before, which the receiver counts under its limit.
    const labels = at.labels = await openChannelLabels(bus, { read: "start" });
    const server = new IngestServer(settings, { bus, durable: true, src: data.src, labels });
    await server.start();
    at.server = server;
    life.start({ port: server.port });
  } catch (err) {
    await at.labels?.close().catch(() => {});
    await at.bus?.close().catch(() => {});
    delete at.labels;
    delete at.bus;
    life.fail(describeError(err));
  }
}

/**
 * One worker thread of a threaded host (threaded_host.ts): a host of its own, built by
 * launchHost from the configuration the main thread gives it (its share of the partitions, its
 * own data directory, journal and snapshots, its own NATS connection for outputs and control),
 * whose feed input is the frames the main thread hands it. It counts what it takes and applies in
 * shared memory (the main thread reads them without a message), tells its health every
 * HEALTH_EVERY_MS and what its service warms as it changes, answers for its metrics, and stops
 * (drains, snapshots, closes) when told.
 * With `scans`, it runs the scan service and worker beside its host, as a lone host does (its
 * worker takes its partitions' chunks); thread 0 serves the scan API on a loopback port of its
 * own, which the main thread forwards to. It tries a team's steps on trials threads of its own,
 * started from the modules the main thread built, and its other steps run under the watchdog the
 * main thread started for it.
 */
import { getHeapStatistics } from "node:v8";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import type { BusMessage } from "../../../protocol/mod.ts";
import { describeError } from "../operations/mod.ts";
import type { InputSource } from "../edge/mod.ts";
import { type LaunchedHost, launchHost, loadKindsModule } from "../host/mod.ts";
import { ThreadLifecycle } from "../../threads/mod.ts";
import {
  countsBase,
  type FromHostThread,
  type HandedFrames,
  HEALTH_EVERY_MS,
  type HostThreadData,
  type HostThreadStarted,
  type ToHostThread,
} from "./_host_thread_wire.ts";

// Only in a host thread's worker: a module that imports this one in another worker starts nothing.
if (!isMainThread && parentPort && (workerData as HostThreadData | undefined)?.hostThread) {
  void runHostThread(parentPort, workerData as HostThreadData);
}

/** The thread's input: the frames the main thread hands over, delivered while it is started. */
function handedInput(): InputSource & { deliver(msg: BusMessage): void } {
  let deliver: ((msg: BusMessage, srcPos: number) => void) | undefined;
  return {
    start(d) {
      deliver = d;
      return Promise.resolve();
    },
    stop() {
      deliver = undefined;
      return Promise.resolve();
    },
    deliver: (msg) => deliver?.(msg, 0),
  };
}

async function runHostThread(
  port: NonNullable<typeof parentPort>,
  data: HostThreadData,
): Promise<void> {
  const send = (m: FromHostThread) => port.postMessage(m);
  const kinds = Object.keys(data.config.actors);
  const counts = new BigInt64Array(data.counts);
  const base = countsBase(data.index, kinds.length);
  const input = handedInput();
  // The host once launched, and its health's timer. A stop while starting waits for the start
  // (the lifecycle holds it); the main thread ends the worker once told "stopped".
  const at: { launched?: LaunchedHost; timer?: ReturnType<typeof setInterval> } = {};
  const life = new ThreadLifecycle<HostThreadStarted>(port, {
    stop: () => {
      if (at.timer !== undefined) clearInterval(at.timer);
      void (at.launched?.close() ?? Promise.resolve()).finally(() => life.stopped({}));
    },
  });
  port.on("message", (m: HandedFrames | ToHostThread) => {
    if ("s" in m) {
      for (let i = 0; i < m.s.length; i++) {
        input.deliver({ subject: m.s[i]!, data: m.d[i]!, headers: undefined, reply: undefined });
      }
      Atomics.add(counts, base, BigInt(m.s.length));
    } else if (m.type === "metrics") {
      const text = at.launched ? at.launched.host.metrics.text() : Promise.resolve("");
      void text.then((t) => send({ type: "metrics", id: m.id, text: t }));
    } else life.take(m);
  });
  let launched: LaunchedHost;
  try {
    const kindsModule = await loadKindsModule(data.kindsModule);
    const service = kindsModule.hostService;
    if (data.scans && service === undefined) {
      throw new Error(`Module ${data.kindsModule} exports no "hostService" for the scans`);
    }
    launched = at.launched = await launchHost(data.config, kindsModule.registry, {
      input,
      progressSource: `${data.config.host_id}-t${data.index}`,
      answerers: data.answerers,
      routedChannelsMax: data.hostChannelsMax,
      log: (message) => life.log(message),
      ...(data.scans && service
        ? { service, onWarming: (warming) => send({ type: "warming", warming }) }
        : {}),
      ...(data.tickEveryMs === undefined ? {} : { tickEveryMs: data.tickEveryMs }),
      // A thread runs from a bundle, which cannot start the watchdog's module: the main thread
      // started it (none without a data directory of the thread's own).
      ...(data.stepWatchdog ? { stepWatchdog: data.stepWatchdog } : { stepDeadlines: false }),
      // Its trials threads start from the modules the main thread built (the same reason).
      ...(data.teamKinds ? { teamKinds: data.teamKinds } : {}),
    });
  } catch (err) {
    return life.fail(describeError(err));
  }
  kinds.forEach((kind, k) => {
    launched.host.onApplied(kind, () => void Atomics.add(counts, base + 1 + k, 1n));
  });
  void launched.fatal.then((err) => life.fail(err.message));
  const health = () => send({ type: "health", health: launched.host.health() });
  at.timer = setInterval(health, HEALTH_EVERY_MS);
  health();
  const heapLimitBytes = getHeapStatistics().heap_size_limit;
  life.start({ httpPort: launched.host.httpPort, heapLimitBytes });
}

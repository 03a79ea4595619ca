/**
 * A NATS bus whose flush outlasts a lost connection, for a feed sent for a while (`troupe
 * inject`, `troupe up`): publishes made while the connection is down are buffered by the client and
 * sent on reconnection, and a flush waits for that, up to a deadline, instead of failing the run; a
 * flush a connected server leaves unanswered (a stall) is tried again likewise.
 */
import { describeError, type NatsBus } from "../../actors/runtime/mod.ts";
import type { Bus } from "../../protocol/mod.ts";

/** Options of `patientBus`. */
export interface PatientBusOptions {
  /** The server's URL, for the errors. */
  url: string;
  /** Wall-clock milliseconds after which a lost connection fails the flush. */
  deadlineMs: number;
  /** Stops the waiting (the flush then returns). */
  signal: AbortSignal;
  /** Told once per outage that the connection went away. */
  onLost?: () => void;
  /** Told when a flush went through again after it had failed. */
  onBack?: () => void;
}

/**
 * `bus` with a flush that waits for the client to reconnect and flushes again, until
 * `deadlineMs`; then it fails with the reason.
 */
export function patientBus(bus: NatsBus, options: PatientBusOptions): Bus {
  const { url, deadlineMs, signal } = options;
  return {
    publish: (subject, data, opts) => bus.publish(subject, data, opts),
    subscribe: (pattern, handler, opts) => bus.subscribe(pattern, handler, opts),
    request: (subject, data, opts) => bus.request(subject, data, opts),
    close: () => bus.close(),
    async flush() {
      for (let told = false;;) {
        try {
          await bus.flush();
          if (told) options.onBack?.();
          return;
        } catch (err) {
          if (signal.aborted) return;
          const left = deadlineMs - Date.now();
          if (left <= 0 || bus.nc.isClosed()) {
            throw new Error(`lost the NATS connection to ${url}: ${describeError(err)}`);
          }
          if (!told) options.onLost?.();
          told = true;
          if (!await bus.whenConnected(Math.min(left, 2_147_000_000), signal)) {
            if (signal.aborted) return;
            throw new Error(
              `NATS at ${url} did not come back before the end of --duration: ${
                describeError(err)
              }`,
            );
          }
        }
      }
    },
  };
}

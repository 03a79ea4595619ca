/** A host's outputs on the bus. */
import type { Bus } from "../../../protocol/mod.ts";
import type { Output } from "../instances/mod.ts";

/**
 * Publishes `outputs` on `bus`, each under its id as `Nats-Msg-Id` when `msgIdHeaders` (a
 * JetStream output stream then keeps one of each), and each finding again on its findings
 * subject, always with its id.
 */
export function publishOutputs(bus: Bus, outputs: readonly Output[], msgIdHeaders: boolean): void {
  for (const out of outputs) {
    if (msgIdHeaders) {
      bus.publish(out.subject, out.data, { headers: { "Nats-Msg-Id": out.id } });
    } else {
      bus.publish(out.subject, out.data);
    }
    // A finding again on its own subject, where the findings stream journals it: always with
    // its id, so that the stream drops one published twice (a redelivered input's).
    if (out.finding) {
      bus.publish(out.finding, out.data, { headers: { "Nats-Msg-Id": out.id } });
    }
  }
}

/** A host's outputs on the bus. */
import type { Bus } from "../../../protocol/mod.ts";
import type { Output } from "../instances/mod.ts";

/**
 * Publishes each of `outputs` once on its subject (a finding on `troupe.finding.<type>.<key>`,
 * where the findings stream journals it and every reader takes it), under its id as `Nats-Msg-Id`
 * when `msgIdHeaders` (a JetStream output stream then keeps one of each) and a finding always, so
 * that the findings stream drops one published twice (a redelivered input's).
 */
export function publishOutputs(bus: Bus, outputs: readonly Output[], msgIdHeaders: boolean): void {
  for (const out of outputs) {
    if (msgIdHeaders || out.finding) {
      bus.publish(out.subject, out.data, { headers: { "Nats-Msg-Id": out.id } });
    } else {
      bus.publish(out.subject, out.data);
    }
  }
}

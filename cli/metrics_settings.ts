/**
 * The collapse settings for service metrics, sent by `troupe inject --feed metrics` to whatever
 * host runs the collapse actors: one control message per channel (`troupe.ctl.collapse.<channel>`,
 * journaled by the host like any input), so that a user who injects the metrics feed into a running
 * host gets the settings `troupe up --feed metrics` and `troupe bench detect` run it with, and the
 * host's other channels keep theirs.
 */
import { ACTOR_KINDS } from "../actors/mod.ts";
import {
  type Bus,
  BusRequestError,
  controlAnswerOf,
  ctlSubject,
  decodeEnvelope,
  encodeEnvelope,
  ProtocolError,
} from "../protocol/mod.ts";
import { metricsActorConfigs } from "../sim/mod.ts";

/** What the hosts said to the settings sent per channel. */
export interface MetricsSettingsResult {
  /** Channels whose collapse instance took the settings. */
  accepted: number;
  /** Channels no host answered for within the timeout. */
  unanswered: number;
  /** The first refusal's reason, if a host refused. */
  refused?: string;
}

/**
 * Sends the metrics settings of each kind that has them, per channel; waits `timeoutMs` at most.
 */
export async function sendMetricsSettings(
  bus: Bus,
  options: { channels: readonly string[]; timeoutMs: number; nowMs: number },
): Promise<MetricsSettingsResult> {
  const result: MetricsSettingsResult = { accepted: 0, unanswered: 0 };
  const settings = Object.entries(metricsActorConfigs()).filter(([k]) => k in ACTOR_KINDS);
  const sends = settings.flatMap(([kind, body]) =>
    options.channels.map(async (channel, i) => {
      const request = encodeEnvelope({
        id: `inject-settings-${options.nowMs.toString(36)}-${kind}-${i}`,
        type: "config",
        src: "troupe-inject",
        ts: options.nowMs * 1000,
        body,
      });
      try {
        const reply = decodeEnvelope(
          (await bus.request(ctlSubject(kind, channel), request, { timeout: options.timeoutMs }))
            .data,
        );
        const answer = controlAnswerOf(reply);
        if (answer.ok) result.accepted++;
        else result.refused ??= answer.error;
      } catch (err) {
        if (err instanceof ProtocolError) {
          result.refused ??= `the host's answer cannot be read: ${err.message}`;
          return;
        }
        if (!(err instanceof BusRequestError)) throw err;
        result.unanswered++;
      }
    })
  );
  await Promise.all(sends);
  return result;
}

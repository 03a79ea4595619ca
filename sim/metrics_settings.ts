/**
 * The collapse settings for service metrics, sent by `troupe inject --feed metrics` to whatever
 * host runs the collapse actors: one control message per channel (`troupe.ctl.collapse.<channel>`,
 * journaled by the host like any input), so that a user who injects the metrics feed into a running
 * host gets the settings `troupe up --feed metrics` and `troupe bench detect` run it with, and the
 * host's other channels keep theirs.
 */
import { ACTOR_KINDS } from "../actors/mod.ts";
import {
  answeredByAddressee,
  askControl,
  describePasses,
  readControlAnswers,
} from "../actors/runtime/mod.ts";
import { type Bus, BusRequestError, ctlSubject, encodeEnvelope } from "../protocol/mod.ts";
import { metricsActorConfigs } from "./demo.ts";

/** What the hosts said to the settings sent per channel. */
export interface MetricsSettingsResult {
  /** Channels whose collapse instance took the settings. */
  accepted: number;
  /** Channels no host answered for within the timeout. */
  unanswered: number;
  /** Channels no answering host took (none runs the kind, or owns the channel). */
  passed: number;
  /** Why, for the first of them: what the hosts that answered run. */
  passedWhy?: string;
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
  const result: MetricsSettingsResult = { accepted: 0, unanswered: 0, passed: 0 };
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
        const read = readControlAnswers(
          await askControl(bus, ctlSubject(kind, channel), request, {
            timeout: options.timeoutMs,
            keyed: true,
          }),
        );
        if (!answeredByAddressee(read)) {
          result.passed++;
          result.passedWhy ??= describePasses(kind, read.passed);
        } else if (read.accepted.length > 0) result.accepted++;
        else {
          result.refused ??= read.refused[0]?.reason ??
            `the host's answer cannot be read: ${read.unreadable[0]}`;
        }
      } catch (err) {
        if (!(err instanceof BusRequestError)) throw err;
        result.unanswered++;
      }
    })
  );
  await Promise.all(sends);
  return result;
}

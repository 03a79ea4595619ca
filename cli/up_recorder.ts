/**
 * `troupe up --record FILE`: the recorder of up's session (sim/recording/), started on up's bus
 * before the hosts so that the recording holds every input and every output, its header naming
 * the settings a replay needs (the actors', the limits, the incident stage's, the seed, the kinds).
 */
import { defaultIncidentConfig } from "../actors/incidents/mod.ts";
import type { HostConfig, NatsServer } from "../actors/runtime/mod.ts";
import type { Bus } from "../protocol/mod.ts";
import { Recorder } from "../sim/mod.ts";
import { recordingKindsOf } from "./kinds_option.ts";
import type { UpOptions } from "./up_options.ts";

/**
 * --record (sim/recording/): subscribes before the host starts, so that the recording holds
 * every input and every output of the session. Undefined without --record; a string: why not.
 */
export function startRecorder(
  o: UpOptions,
  bus: Bus,
  nats: NatsServer | undefined,
  config: HostConfig,
): Recorder | undefined | string {
  if (o.recordPath === undefined) return undefined;
  try {
    return Recorder.start(bus, {
      path: o.recordPath,
      header: {
        source: "troupe up",
        bus: nats?.url ?? "in-process",
        // The incident stage's settings too, so that a replay makes the same incidents.
        config: {
          actors: config.actors,
          limits: config.limits,
          incidents: defaultIncidentConfig,
        },
        seed: o.seed,
        kinds: recordingKindsOf(o.kinds),
      },
    });
  } catch (err) {
    return `cannot record into ${o.recordPath}: ${(err as Error).message}`;
  }
}

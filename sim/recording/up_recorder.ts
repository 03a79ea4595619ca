/**
 * `troupe up --record FILE`: the recorder of up's session, started on up's bus
 * before the hosts so that the recording holds every input and every output, its header naming
 * the settings a replay needs (the actors', the limits, the incident stage's, the seed, the kinds).
 */
import { defaultIncidentConfig } from "../../actors/incidents/mod.ts";
import type { HostKinds } from "../../actors/cluster/kinds/mod.ts";
import type { HostConfig } from "../../actors/runtime/mod.ts";
import type { Bus } from "../../protocol/mod.ts";
import { Recorder } from "./recorder.ts";
import { recordingKindsOf } from "./recording_kinds.ts";

/** What of `troupe up`'s options its recorder needs. */
export interface UpRecorderOptions {
  /** The recording's file; undefined: no recorder. */
  recordPath: string | undefined;
  /** The feed's seed, named in the header. */
  seed: number;
  /** The kinds the hosts run, named in the header so that a replay loads them. */
  kinds: HostKinds;
}

/**
 * --record: subscribes to `bus` before the host of `config` starts, so that the recording holds
 * every input and every output of the session. Undefined without --record; a string: why not.
 */
export function startUpRecorder(
  bus: Bus,
  config: HostConfig,
  o: UpRecorderOptions,
): Recorder | undefined | string {
  if (o.recordPath === undefined) return undefined;
  try {
    return Recorder.start(bus, {
      path: o.recordPath,
      header: {
        source: "troupe up",
        // The host's NATS server is up's bus; without one, up runs on the in-process bus.
        bus: config.nats ?? "in-process",
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

/**
 * Helpers of the cli suites about the incident stage: the incidents `troupe incidents --json`
 * lists, and a crash's findings published on the bus as the stage's suites all set it up.
 */
import * as assert from "uvu/assert";
import type { NatsBus } from "../../actors/runtime/mod.ts";
import { findingSubject } from "../../protocol/mod.ts";
import { ndjson, runTroupe } from "../_support/cli.ts";
import { anomalyFinding } from "../_support/findings.ts";

/** An incident as `troupe incidents --json` lists it: the fields the suites read. */
export interface ListedIncident {
  id: string;
  state: string;
  findings: number;
  members: Array<{ channel: string; findings: number }>;
}

/**
 * The incidents the cluster on `url` lists (connecting with the nkey seed file `nkey` when the
 * server wants one); the test fails where `troupe incidents` does.
 */
export async function listedIncidents(url: string, nkey?: string): Promise<ListedIncident[]> {
  const r = await runTroupe([
    "incidents",
    "--json",
    "--nats",
    url,
    "--timeout",
    "5000",
    ...(nkey === undefined ? [] : ["--nats-nkey", nkey]),
  ]);
  assert.is(r.code, 0, r.stderr);
  return ndjson(r.stdout) as ListedIncident[];
}

/** What `publishCrash` publishes. */
export interface CrashOptions {
  /** The event time of the first finding, in µs. */
  ts: number;
  /** The channels the crash is over, one finding each, 100 ms of event time apart. */
  channels: readonly string[];
  /** The channel of a later finding, 10 s on, that moves event time past the crash. */
  later: string;
}

/** Publishes a crash's anomaly findings and a later one on `bus`, and flushes it. */
export async function publishCrash(bus: NatsBus, options: CrashOptions): Promise<void> {
  for (const [i, ch] of options.channels.entries()) {
    bus.publish(findingSubject("anomaly", ch), anomalyFinding(ch, options.ts + i * 100_000));
  }
  const later = options.later;
  bus.publish(findingSubject("anomaly", later), anomalyFinding(later, options.ts + 10_000_000));
  await bus.flush();
}

/**
 * The alerting benchmark's host: a child process running the cluster's incident stage journaled
 * in a directory, with the alert sender beside it (as `troupe run`'s partition-0 host runs them
 * where there is no findings stream; on NATS with JetStream it reads the stream instead),
 * from the JSON given as its only argument: `{ nats, dir, incidents, alerting }`. It prints
 * `{"ready":true}` once both run, and is killed with SIGKILL by the benchmark, then started again
 * on the same directory.
 */
import process from "node:process";
import { join } from "node:path";
import { parseAlertingConfig, runAlerting } from "../actors/alerting/mod.ts";
import { parseIncidentConfig, runJournaledIncidentStage } from "../actors/incidents/mod.ts";
import { describeError, FileJournal, FileSnapshotStore, NatsBus } from "../actors/runtime/mod.ts";

const args = JSON.parse(process.argv[2] ?? "{}") as {
  nats: string;
  dir: string;
  incidents: Record<string, unknown>;
  alerting: Record<string, unknown>;
};
try {
  const bus = await NatsBus.connect(args.nats, { name: "bench-alert-host" });
  const journal = await FileJournal.open(join(args.dir, "incidents"), { fsync: "always" });
  const snapshots = await FileSnapshotStore.open(join(args.dir, "incidents-snapshots"));
  const say = (m: unknown) =>
    process.stderr.write(`${m instanceof Error ? describeError(m) : m}\n`);
  const run = await runJournaledIncidentStage(bus, {
    config: parseIncidentConfig(args.incidents),
    journal,
    snapshots,
    onError: say,
  });
  await runAlerting(bus, {
    config: parseAlertingConfig(args.alerting),
    stage: run.stage,
    store: snapshots,
    log: say,
  });
  process.stdout.write(`${JSON.stringify({ ready: true, restored: run.restored })}\n`);
  await new Promise(() => {}); // until killed
} catch (err) {
  process.stderr.write(`cannot start: ${describeError(err)}\n`);
  process.exit(1);
}

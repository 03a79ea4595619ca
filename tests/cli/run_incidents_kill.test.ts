/**
 * A `kill -9` of a `troupe run` host that runs the cluster's incident stage loses no incident and
 * doubles none: the stage's journal is the findings stream, which holds every finding published,
 * those in flight at the kill and those published while the host was down included, and the
 * restarted stage reads on from its snapshot and passes over, by id, the findings a restarted host
 * publishes again as it catches up. The incidents equal those of a run that was not interrupted.
 * Against real nats-servers and real `troupe run` processes.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { NatsBus } from "../../actors/runtime/mod.ts";
import { findingSubject } from "../../protocol/mod.ts";
import { type RunningTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { anomalyFinding, anomalyFindingId } from "../_support/findings.ts";
import { type ListedIncident, listedIncidents } from "./_incidents.ts";

const test = suite("troupe run: the incident stage across a kill -9");
// In the past: the stage takes a finding far ahead of the hosts' clocks at a bound.
const TS = 1_700_000_000_000_000;
const CHANNELS = ["SYM001", "SYM002", "SYM003", "SYM004"];

/** A finding: its channel and event time, µs. */
type Finding = [string, number];

/** Crash `k`: its channels' findings 100 ms apart, two minutes of event time after crash k - 1. */
function crash(k: number, channels: readonly string[]): Finding[] {
  return channels.map((ch, i) => [ch, TS + k * 120_000_000 + i * 100_000]);
}

// Before the kill, while the host is down, and after its restart (the last moves event time on).
const BEFORE = [...crash(0, CHANNELS), ...crash(1, CHANNELS.slice(1))];
const WHILE_DOWN = [...crash(2, CHANNELS.slice(0, 2)), ...crash(3, CHANNELS)];
const AFTER = [...crash(4, CHANNELS.slice(2)), ["LATER", TS + 600_000_000] as Finding];

if (haveNatsServer("troupe run's incident stage across a kill -9")) {
  test("a host killed as findings reach it ends with the incidents of an uninterrupted run", async () => {
    const whole = await incidentsOfRun(false);
    assert.is(whole.length, 5, JSON.stringify(whole));
    assert.equal(whole.map((i) => i[2]), [4, 3, 2, 4, 2]);
    const killed = await incidentsOfRun(true);
    assert.equal(killed, whole);
  });
}

/**
 * The incidents a `troupe run` cluster ends with after BEFORE, WHILE_DOWN and AFTER; with `kill`,
 * its host is killed (SIGKILL) right after BEFORE was sent, and WHILE_DOWN is sent while it is
 * down; the restarted host is sent the last of BEFORE and the first of WHILE_DOWN again.
 */
async function incidentsOfRun(kill: boolean): Promise<Array<[string, string, number, string[]]>> {
  const nats = await startTestNats();
  const dir = tempDir("troupe-stage-kill-");
  const bus = await NatsBus.connect(nats.url);
  const args = ["run", "--nats", nats.url, "--data-dir", dir.path];
  let host: RunningTroupe | undefined;
  try {
    host = startTroupe(args);
    await host.waitFor("troupe run: incidents:", 60_000);
    await listedIncidents(nats.url); // answered: the stage is in place
    await publish(bus, BEFORE);
    if (kill) {
      host.signal("SIGKILL");
      await host.exited;
    }
    await publish(bus, WHILE_DOWN);
    if (kill) {
      host = startTroupe(args);
      await host.waitFor("troupe run: incidents:", 60_000);
      // Refolded from the stream: what it took before the kill and what came while it was down.
      const refolded = BEFORE.length + WHILE_DOWN.length;
      assert.match(host.output(), `${refolded} findings refolded`);
      await publish(bus, [...BEFORE.slice(-2), ...WHILE_DOWN.slice(0, 2)]);
    }
    await publish(bus, AFTER);
    const listed = await settledIncidents(nats.url);
    host.signal("SIGTERM");
    assert.is(await host.exitCode(30_000), 0, host.output());
    return listed.map((i) => [i.id, i.state, i.findings, i.members.map((m) => m.channel).sort()]);
  } finally {
    await host?.stop();
    await bus.close();
    await nats.cleanup();
    dir.remove();
  }
}

/** Publishes `findings` as a host does (under their ids) and flushes the bus. */
async function publish(bus: NatsBus, findings: readonly Finding[]): Promise<void> {
  for (const [ch, ts] of findings) {
    const headers = { "Nats-Msg-Id": anomalyFindingId(ch, ts) };
    bus.publish(findingSubject("anomaly", ch), anomalyFinding(ch, ts), { headers });
  }
  await bus.flush();
}

/** The incidents once the stage took every finding: two looks half a second apart that agree. */
async function settledIncidents(url: string): Promise<ListedIncident[]> {
  let last = "";
  for (let i = 0; i < 40; i++) {
    const now = await listedIncidents(url);
    const text = JSON.stringify(now);
    if (text === last) return now.sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    last = text;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`The incidents on ${url} did not settle within 20 s: ${last}`);
}

test.run();

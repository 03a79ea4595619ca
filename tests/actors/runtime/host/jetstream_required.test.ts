/**
 * A host configured for JetStream against a real nats-server with JetStream off stops at start,
 * naming the server and the setting, instead of waiting out the leader-election retry budget;
 * a host that needs no JetStream starts on the same server.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { ACTOR_KINDS } from "../../../../actors/mod.ts";
import {
  defaultHostConfig,
  type HostConfig,
  jetStreamSetting,
  launchHost,
  launchLeasedHost,
  type LeaseSettings,
  leaseSettings,
  NatsServer,
} from "../../../../actors/runtime/mod.ts";
import { haveNatsServer, tempDir } from "../../../_support/nats.ts";

const NAME = "a host that needs JetStream, on a server without it";
const test = suite(NAME);
const it = haveNatsServer(NAME) ? test : test.skip;

let server: NatsServer | undefined;

test.before(async () => {
  if (it === test.skip) return;
  server = await NatsServer.start(); // no store directory: JetStream off
});

test.after(async () => {
  await server?.stop();
});

function config(dir: string, edit: (c: HostConfig) => void): HostConfig {
  const c = defaultHostConfig();
  c.host_id = "nojs";
  c.nats = server!.url;
  c.data_dir = join(dir, "nojs");
  c.actors = { stats: {} };
  edit(c);
  return c;
}

/** The message `launch` rejects with. */
async function refusal(launch: () => Promise<unknown>): Promise<string> {
  try {
    const started = await launch();
    await (started as { close(): Promise<void> }).close();
  } catch (err) {
    return (err as Error).message;
  }
  assert.unreachable("the host started");
  return "";
}

test("jetStreamSetting() names the first setting that needs JetStream, or none", () => {
  const c = defaultHostConfig();
  assert.is(jetStreamSetting(c), undefined);
  c.input = "jetstream";
  assert.is(jetStreamSetting(c), 'input "jetstream"');
  c.snapshots = { ...c.snapshots, store: "kv" };
  assert.is(jetStreamSetting(c), 'snapshots.store "kv"');
  c.journal = { ...c.journal, kind: "jetstream" };
  assert.is(jetStreamSetting(c), 'journal.kind "jetstream"');
  c.partitions = { count: 4, owned: [], leases: leaseSettings(1000) };
  assert.is(jetStreamSetting(c), 'partitions.owned "auto"');
});

it("a host with a JetStream journal stops at start naming the server and journal.kind", async () => {
  const dir = tempDir();
  try {
    const c = config(dir.path, (c) => (c.journal = { ...c.journal, kind: "jetstream" }));
    const message = await refusal(() => launchHost(c, ACTOR_KINDS, { log: () => {} }));
    assert.match(message, `journal.kind "jetstream" needs JetStream`);
    assert.match(message, `the NATS server at ${server!.url}`);
    assert.match(message, "has JetStream off");
    assert.match(message, "-js");
    // Not the election budget's error: the host did not wait it out.
    assert.not.match(message, /did not answer in/);
  } finally {
    dir.remove();
  }
});

it("a leased host and a host on JetStream input stop the same way, each naming its setting", async () => {
  const dir = tempDir();
  try {
    const leased = config(dir.path, (c) => {
      c.input = "jetstream";
      c.journal = { ...c.journal, kind: "jetstream" };
      c.snapshots = { ...c.snapshots, store: "kv" };
      c.partitions = { count: 4, owned: [], leases: leaseSettings(2000) };
    });
    const lease = leased as HostConfig & { partitions: { leases: LeaseSettings } };
    const m1 = await refusal(() => launchLeasedHost(lease, ACTOR_KINDS, { log: () => {} }));
    assert.match(m1, `partitions.owned "auto" needs JetStream`);
    assert.not.match(m1, /did not answer in/);
    const input = config(dir.path, (c) => (c.input = "jetstream"));
    const m2 = await refusal(() => launchHost(input, ACTOR_KINDS, { log: () => {} }));
    assert.match(m2, `input "jetstream" needs JetStream`);
  } finally {
    dir.remove();
  }
});

it("a host that needs no JetStream starts on the same server", async () => {
  const dir = tempDir();
  try {
    const launched = await launchHost(config(dir.path, () => {}), ACTOR_KINDS, { log: () => {} });
    assert.is(launched.host.health().ready, true, "recovered and consuming");
    await launched.close();
  } finally {
    dir.remove();
  }
});

test.run();

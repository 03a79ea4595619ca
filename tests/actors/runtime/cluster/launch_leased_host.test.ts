/**
 * A leased host makes the findings stream (the incident stage's journal) before any of its
 * partitions starts, against a real nats-server with JetStream: on a cluster's very first start a
 * finding its actors publish in their first milliseconds is journaled, though no host runs the
 * stage yet (the stage's lease keeper, which made the stream before, starts after the host).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { ACTOR_KINDS } from "../../../../actors/mod.ts";
import {
  defaultHostConfig,
  FINDINGS_STREAM,
  type HostConfig,
  launchLeasedHost,
  type LeaseSettings,
  leaseSettings,
  type NatsBus,
} from "../../../../actors/runtime/mod.ts";
import { findingSubject } from "../../../../protocol/mod.ts";
import { anomalyFinding, anomalyFindingId } from "../../../_support/findings.ts";
import { haveNatsServer, startTestNats, tempDir } from "../../../_support/nats.ts";

const test = suite("launchLeasedHost");

if (haveNatsServer("launchLeasedHost against nats-server")) {
  test("a leased host's first start makes the findings stream before its partitions run", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const config = defaultHostConfig() as HostConfig & { partitions: { leases: LeaseSettings } };
    Object.assign(config, {
      host_id: "first",
      nats: nats.url,
      data_dir: join(dir.path, "first"),
      input: "jetstream",
      journal: { ...config.journal, kind: "jetstream" },
      snapshots: { ...config.snapshots, store: "kv" },
      partitions: { count: 2, owned: [], leases: leaseSettings(2000) },
      http_port: undefined,
    });
    const host = await launchLeasedHost(config, ACTOR_KINDS, { log: () => {} });
    try {
      const nc = (host.bus as NatsBus).nc;
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(FINDINGS_STREAM);
      assert.is(info.state.messages, 0);
      // A finding published on the host's bus the moment it is up is in the stream.
      const ts = 1_800_000_000_000_000;
      host.bus.publish(findingSubject("anomaly", "SYM1"), anomalyFinding("SYM1", ts), {
        headers: { "Nats-Msg-Id": anomalyFindingId("SYM1", ts) },
      });
      await host.bus.flush();
      let stored = 0;
      for (let i = 0; i < 40 && stored === 0; i++) {
        stored = (await jsm.streams.info(FINDINGS_STREAM)).state.messages;
        if (stored === 0) await new Promise((r) => setTimeout(r, 25));
      }
      assert.is(stored, 1);
    } finally {
      await host.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();

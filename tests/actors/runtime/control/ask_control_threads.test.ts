/**
 * The threads of a threaded host each answer a kind-wide control request for their own instances,
 * and each answer names all the threads (`CONTROL_ANSWERERS_HEADER`): `askControl` waits for every
 * thread it has heard of, however late one answers (a loaded thread may answer long after the
 * quiet gap), while answers that name no threads still end at the quiet gap. Two real hosts on the
 * in-process bus, one of whose answers the bus holds back past the gap.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor } from "../../../../actors/stats/mod.ts";
import { ANSWERS_QUIET_MS_MIN } from "../../../../actors/runtime/control/mod.ts";
import {
  askControl,
  Host,
  InProcessBus,
  MemoryJournal,
  MemorySnapshotStore,
  readControlAnswers,
} from "../../../../actors/runtime/mod.ts";
import {
  type Bus,
  CONTROL_ANSWERERS_HEADER,
  ctlSubject,
  encodeEnvelope,
} from "../../../../protocol/mod.ts";

const test = suite("askControl and a threaded host's threads");
const LATE_MS = 3 * ANSWERS_QUIET_MS_MIN;

/** The bus as one host sees it: its answers to requests reach the requester LATE_MS late. */
function lateAnswers(bus: InProcessBus): Bus {
  return new Proxy(bus, {
    get(target, prop) {
      if (prop !== "publish") {
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      }
      return (subject: string, data: Uint8Array, options?: Parameters<Bus["publish"]>[2]) => {
        if (!subject.startsWith("_INBOX.")) return target.publish(subject, data, options);
        setTimeout(() => target.publish(subject, data, options), LATE_MS);
      };
    },
  });
}

/** Threads t0 and t1 of host "h", t1's answers late; each names both when `named`. */
async function twoThreads(bus: InProcessBus, named: boolean): Promise<Host[]> {
  const ids = ["h-t0", "h-t1"];
  const hosts = ids.map((hostId, i) =>
    new Host({
      hostId,
      bus: i === 1 ? lateAnswers(bus) : bus,
      actors: [statsActor],
      journal: new MemoryJournal(),
      snapshots: new MemorySnapshotStore(),
      partitions: { count: 2, owned: [i] },
      log: () => {},
      ...(named ? { answerers: ids } : {}),
    })
  );
  for (const h of hosts) await h.start();
  return hosts;
}

async function askKindWide(bus: InProcessBus) {
  const request = encodeEnvelope({
    id: "c",
    type: "config",
    src: "t",
    ts: 1,
    body: { every_samples: 4 },
  });
  const all = await askControl(bus, ctlSubject("stats"), request, {
    timeout: 10_000,
    keyed: false,
  });
  return { all, read: readControlAnswers(all) };
}

test("a kind-wide ask waits for every thread an answer names, past the quiet gap", async () => {
  const bus = new InProcessBus();
  const hosts = await twoThreads(bus, true);
  try {
    const t0 = Date.now();
    const { all, read } = await askKindWide(bus);
    assert.equal(read.accepted.sort(), ["h-t0", "h-t1"], "both threads' answers gathered");
    assert.ok(Date.now() - t0 >= LATE_MS, "it waited for the late thread");
    for (const m of all) assert.is(m.headers?.[CONTROL_ANSWERERS_HEADER], "h-t0,h-t1");
  } finally {
    for (const h of hosts) await h.stop();
    await bus.close();
  }
});

test("answers that name no threads end at the quiet gap: the late one is not waited for", async () => {
  const bus = new InProcessBus();
  const hosts = await twoThreads(bus, false);
  try {
    const { all, read } = await askKindWide(bus);
    assert.equal(read.accepted, ["h-t0"]);
    assert.is(all[0]!.headers?.[CONTROL_ANSWERERS_HEADER], undefined);
    await new Promise((r) => setTimeout(r, LATE_MS)); // the late answer lands on no one
  } finally {
    for (const h of hosts) await h.stop();
    await bus.close();
  }
});

test.run();

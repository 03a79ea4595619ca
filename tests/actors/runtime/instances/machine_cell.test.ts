import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  type AnyStateMachine,
  assign,
  createActor,
  emit,
  enqueueActions,
  type EventObject,
  setup,
} from "xstate";
import { MachineCell } from "../../../../actors/runtime/instances/machine_cell.ts";
import type { AnomalyFrameEvent } from "../../../../actors/anomaly/mod.ts";
import {
  anomalyActor,
  barsActor,
  coherenceActor,
  collapseActor,
  statsActor,
} from "../../../../actors/mod.ts";
import { encodeValue } from "../../../../protocol/mod.ts";
import { Prng } from "../../../../sim/prng/mod.ts";

const test = suite("machine_cell");

type Ev =
  | { type: "x"; n: number }
  | { type: "boom" }
  | { type: "finish" }
  | { type: "noise" };

/** A machine with what troupe's machines use: entry emits, guards, assigns, queued emits. */
const machine = setup({
  types: {
    context: {} as { key: string; level: number; seen: number },
    events: {} as Ev,
    input: {} as { key: string; start: number },
    emitted: {} as { type: "entered"; key: string } | { type: "high" | "low"; level: number },
  },
  guards: { high: ({ context }) => context.level > 5 },
  actions: {
    report: enqueueActions(({ context, enqueue }) => {
      if (context.seen % 3 === 0) enqueue.emit({ type: "high", level: context.level });
      if (context.seen % 4 === 0) enqueue.emit({ type: "low", level: -context.level });
    }),
    explode: () => {
      throw new Error("the machine's action threw");
    },
  },
}).createMachine({
  id: "cell-test",
  context: ({ input }) => ({ key: input.key, level: input.start, seen: 0 }),
  initial: "calm",
  entry: emit(({ context }) => ({ type: "entered" as const, key: context.key })),
  states: {
    calm: {
      on: {
        x: [
          {
            guard: "high",
            target: "alert",
            actions: assign({ level: ({ event }) => event.n, seen: ({ context }) => context.seen }),
          },
          {
            actions: [
              assign({
                level: ({ context, event }) => context.level + event.n,
                seen: ({ context }) => context.seen + 1,
              }),
              "report",
            ],
          },
        ],
        finish: "over",
      },
    },
    alert: {
      entry: emit(({ context }) => ({ type: "high" as const, level: context.level })),
      on: {
        x: {
          target: "calm",
          actions: assign({ level: 0, seen: ({ context }) => context.seen + 1 }),
        },
        boom: { actions: "explode" },
      },
    },
    over: { type: "final" },
  },
});

function x(n: number): Ev {
  return { type: "x", n };
}

/** An actor and a cell fed the same events, what each emitted and the error each was told. */
function pair(input: { key: string; start: number }, persisted?: unknown) {
  const fromActor: EventObject[] = [], fromCell: EventObject[] = [];
  let actorError: unknown, cellError: unknown;
  const actor = createActor(
    machine,
    persisted === undefined ? { input } : { input, snapshot: persisted as never },
  );
  actor.on("*", (e) => void fromActor.push(e));
  actor.subscribe({ error: (err) => (actorError = err) });
  actor.start();
  const listener = {
    emitted: (e: EventObject) => void fromCell.push(e),
    failed: (err: unknown) => (cellError = err),
  };
  const cell = persisted === undefined
    ? MachineCell.start(machine, input, listener)
    : MachineCell.restore(machine, persisted, input, listener);
  return { actor, cell, fromActor, fromCell, errors: () => [actorError, cellError] };
}

/**
 * That `cell.persisted()` is xstate's own persisted form of the cell's snapshot: the same keys in
 * the same order (undefined ones too), the same values, the same encoded bytes.
 */
function assertPersistedAsXstate(m: AnyStateMachine, cell: MachineCell, where: string): void {
  const mine = cell.persisted() as Record<string, unknown>;
  const theirs = m.getPersistedSnapshot(cell.snapshot) as Record<string, unknown>;
  assert.equal(Object.keys(mine), Object.keys(theirs), `${where}: persisted keys`);
  assert.equal(mine, theirs, `${where}: persisted`);
  assert.equal(encodeValue(mine), encodeValue(theirs), `${where}: persisted bytes`);
}

test("MachineCell moves, emits and fails as an actor of the same machine does, over seeded events", () => {
  const seed = 7021;
  const rng = new Prng(seed);
  for (let run = 0; run < 40; run++) {
    let p = pair({ key: `k${run}`, start: rng.int(8) });
    for (let step = 0; step < 60; step++) {
      const where = `seed ${seed}, run ${run}, step ${step}`;
      const r = rng.int(100);
      const event: Ev = r < 80
        ? { type: "x", n: rng.int(9) - 3 }
        : r < 90
        ? { type: "noise" }
        : r < 97
        ? { type: "boom" }
        : { type: "finish" };
      p.actor.send(event);
      p.cell.send(event);
      assert.equal(p.fromCell, p.fromActor, `${where}: emitted`);
      const [actorError, cellError] = p.errors();
      assert.is(
        (cellError as Error | undefined)?.message,
        (actorError as Error | undefined)?.message,
        `${where}: error`,
      );
      const a = p.actor.getSnapshot(), c = p.cell.snapshot;
      assert.is(c.status, a.status, `${where}: status`);
      assert.equal(c.value, a.value, `${where}: value`);
      assert.equal(c.context, a.context, `${where}: context`);
      assertPersistedAsXstate(machine, p.cell, where);
      if (a.status !== "active") break;
      const persisted = p.actor.getPersistedSnapshot();
      assert.equal(
        JSON.parse(JSON.stringify(p.cell.persisted())),
        JSON.parse(JSON.stringify(persisted)),
        `${where}: persisted`,
      );
      if (rng.chance(0.1)) {
        // Restored from the persisted snapshot, both go on alike (restore runs no entry action).
        p.actor.stop();
        p = pair({ key: `k${run}`, start: 0 }, JSON.parse(JSON.stringify(persisted)));
      }
    }
  }
});

test("a cell's persisted form is xstate's for every kind's machine, in each state it is driven to", () => {
  const listener = { emitted: () => {}, failed: (err: unknown) => assert.unreachable(String(err)) };
  const change = (open: boolean, ts: number) => ({
    open,
    ts,
    score: open ? 0.9 : 0.1,
    value: 5,
    expected: 1,
    lower: 0,
    upper: 2,
  });
  const anomalyFrames: AnomalyFrameEvent[] = [
    { type: "frame", seen: 10_000, changes: [] },
    { type: "frame", seen: 10_001, changes: [change(true, 1)] },
    { type: "frame", seen: 10_002, changes: [{ ...change(true, 2), restated: true }] },
    { type: "frame", seen: 10_003, changes: [change(false, 3)] },
  ];
  const drives: Array<[{ kind: string; machine: unknown; defaultConfig: unknown }, EventObject[]]> =
    [
      [anomalyActor, anomalyFrames],
      [collapseActor, []],
      [barsActor, []],
      [statsActor, []],
      [coherenceActor, []],
    ];
  for (const [def, events] of drives) {
    const m = def.machine as AnyStateMachine;
    const cell = MachineCell.start(m, { key: "ch-1", config: def.defaultConfig }, listener);
    assertPersistedAsXstate(m, cell, `${def.kind} at start`);
    const states = new Set([JSON.stringify(cell.snapshot.value)]);
    for (const [i, event] of [{ type: "config", config: def.defaultConfig }, ...events].entries()) {
      cell.send(event);
      states.add(JSON.stringify(cell.snapshot.value));
      assertPersistedAsXstate(m, cell, `${def.kind} after event ${i} (${event.type})`);
    }
    if (def.kind === "anomaly") {
      assert.equal([...states], ['"warming"', '"normal"', '"alerting"'], "anomaly's states");
    }
  }
});

test("a context holding an actor reference is persisted by xstate's own path", () => {
  const keeper = setup({
    types: { context: {} as { me: unknown; n: number }, events: {} as { type: "keep" } },
  }).createMachine({
    id: "keeper",
    context: { me: null, n: 0 },
    on: { keep: { actions: assign({ me: ({ self }) => self, n: 1 }) } },
  });
  const cell = MachineCell.start(keeper, undefined, { emitted: () => {}, failed: () => {} });
  cell.send({ type: "keep" });
  const persisted = cell.persisted() as { context: { me: Record<string, unknown> } };
  assert.is(persisted.context.me.xstate$$type, 1, "the reference is replaced by its id");
  assertPersistedAsXstate(keeper, cell, "a reference in context");
});

test("MachineCell ignores events once its machine failed or stopped, as an actor does", () => {
  const p = pair({ key: "k", start: 9 });
  p.actor.send(x(7));
  p.cell.send(x(7));
  assert.equal(p.cell.snapshot.value, "alert");
  p.actor.send({ type: "boom" });
  p.cell.send({ type: "boom" });
  assert.is((p.errors()[1] as Error).message, "the machine's action threw");
  assert.is(p.cell.snapshot.status, "error");
  p.cell.send(x(1));
  p.actor.send(x(1));
  assert.equal(p.cell.snapshot.value, "alert");
  assert.equal(p.fromCell, p.fromActor);
  const q = pair({ key: "k", start: 0 });
  q.cell.stop();
  q.cell.send(x(1));
  assert.is(q.cell.snapshot.context.seen, 0);
  assert.equal(q.fromCell, [{ type: "entered", key: "k" }]);
});

test.run();

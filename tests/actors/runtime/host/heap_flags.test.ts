/**
 * The `troupe` command's V8 flags and malloc's huge pages (actors/runtime/host/heap_flags.mjs).
 * With allocation-site pretenuring off, a site whose objects a young-generation collection keeps
 * finding alive still allocates them young, so the program runs many more scavenges than one
 * whose site V8 moved to the old generation. The program below keeps its objects alive across
 * collections (a window of 20,000), the pattern that gets a site pretenured. The young generation
 * is held at its first size while the old generation is smaller than the young one's cap, and
 * grows under survivors once it is larger. Node only: Deno's
 * `node:v8` sets no flag (its own `--v8-flags` does). Huge pages: a script that starts as the
 * command does (its `#!` line) has its array buffers in 2 MiB pages where the kernel gives them
 * on request (THP `madvise`), and none when the user's `GLIBC_TUNABLES` says no.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import process from "node:process";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ROOT, shebangFlags } from "../../../_support/cli.ts";
import { tempDir } from "../../../_support/nats.ts";

const test = suite("heap flags");
const nodeOnly = "Deno" in globalThis ? test.skip : test;
if ("Deno" in globalThis) {
  console.log("  SKIP  heap flags: Node's command sets them (Deno's node:v8 sets no flag)");
}

const CHURN = `
const [flags, apply] = process.argv.slice(2);
if (apply === "apply") (await import(flags)).applyHeapFlags();
let window = [];
for (let i = 0; i < 3e6; i++) {
  window.push({ a: i, b: i + 1 });
  if (window.length >= 20000) window = [];
}
`;

/** The scavenges the churning program runs with `nodeFlags`, the heap flags applied or not. */
function scavenges(dir: string, nodeFlags: string[], apply: boolean): number {
  const script = join(dir, "churn.mjs");
  writeFileSync(script, CHURN);
  const flags = pathToFileURL(join(ROOT, "actors", "runtime", "host", "heap_flags.mjs")).href;
  const out = execFileSync(
    process.execPath,
    // A 1 MiB semi-space: V8 pretenures a site only when the young generation is at its most.
    ["--max-semi-space-size=1", "--trace-gc", ...nodeFlags, script, flags, apply ? "apply" : "no"],
    { encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } },
  );
  return out.split("\n").filter((l) => l.includes("Scavenge")).length;
}

nodeOnly("applyHeapFlags() keeps a churning site's objects young (pretenuring off)", () => {
  const dir = tempDir("troupe-heap-flags-");
  try {
    const pretenured = scavenges(dir.path, [], false);
    const young = scavenges(dir.path, [], true);
    assert.ok(
      young > 2 * pretenured,
      `with the flags applied ${young} scavenges, without ${pretenured}: expected twice as many`,
    );
    // The user's own flag about pretenuring stays.
    const theirs = scavenges(dir.path, ["--allocation-site-pretenuring"], true);
    assert.ok(
      theirs * 2 < young,
      `with --allocation-site-pretenuring given ${theirs} scavenges, with the flags ${young}`,
    );
  } finally {
    dir.remove();
  }
});

test("heapFlagsFor() gives a child the command's flags, less those its own flags speak of", async () => {
  const { heapFlagsFor, PRETENURING_FLAG, SEMI_SPACE_FLAG } = await import(
    "../../../../actors/runtime/host/heap_flags.mjs"
  );
  assert.equal(heapFlagsFor(""), [SEMI_SPACE_FLAG, PRETENURING_FLAG]);
  assert.equal(heapFlagsFor("--cpu-prof --max-semi-space-size=64"), [PRETENURING_FLAG]);
  assert.equal(heapFlagsFor("--allocation-site-pretenuring"), [SEMI_SPACE_FLAG]);
  assert.equal(heapFlagsFor("--max-semi-space-size=1 --no-allocation-site-pretenuring"), []);
});

test("a semi-space cap in NODE_OPTIONS that node's command line overrides is said, with how to apply it", async () => {
  const { semiSpaceNotice } = await import("../../../../actors/runtime/host/heap_flags.mjs");
  const cli = "/opt/troupe/cli/troupe.mjs";
  const notice = semiSpaceNotice("--max-semi-space-size=4", ["--max-semi-space-size=32"], cli);
  assert.match(notice!, /NODE_OPTIONS asks for --max-semi-space-size=4/);
  assert.match(notice!, /gives 32/);
  assert.match(notice!, /node --max-semi-space-size=4 \/opt\/troupe\/cli\/troupe\.mjs/);
  assert.is(semiSpaceNotice("", ["--max-semi-space-size=32"], cli), undefined);
  assert.is(
    semiSpaceNotice("--max-semi-space-size=32", ["--max-semi-space-size=32"], cli),
    undefined,
  );
  // Without the flag on node's command line (`node cli/troupe.mjs`), NODE_OPTIONS applies.
  assert.is(semiSpaceNotice("--max-semi-space-size=4", [], cli), undefined);
});

nodeOnly(
  "the command as installed runs its main thread with the #! line's semi-space cap, over NODE_OPTIONS's, and says so",
  () => {
    // Node lets its command line win over NODE_OPTIONS: measured here, a young generation that
    // grows under survivors up to the cap (two semi-spaces' worth of new space).
    const dir = tempDir();
    try {
      const script = join(dir.path, "young.mjs");
      writeFileSync(
        script,
        `import v8 from "node:v8";
let max = 0; const ring = new Array(200000);
for (let i = 0; i < 1.2e7; i++) {
  ring[i % ring.length] = [i, i + 1];
  if (i % 50000 === 0) {
    const s = v8.getHeapSpaceStatistics().find((x) => x.space_name === "new_space");
    max = Math.max(max, s.space_size);
  }
}
console.log(Math.round(max / 1048576));`,
      );
      const young = (flags: string[], nodeOptions: string) =>
        Number(
          execFileSync(process.execPath, [...flags, script], {
            env: { ...process.env, NODE_OPTIONS: nodeOptions },
            encoding: "utf8",
          }).trim(),
        );
      const shebang = shebangFlags();
      assert.equal(shebang, ["--max-semi-space-size=32"]);
      assert.is(young(shebang, ""), 64, "two semi-spaces of 32 MiB");
      assert.is(young(shebang, "--max-semi-space-size=4"), 64, "NODE_OPTIONS's does not apply");
      assert.is(young([], "--max-semi-space-size=4"), 8, "without the #! line's flag it does");
      const out = spawnSync(
        process.execPath,
        [...shebang, join(ROOT, "cli/troupe.mjs"), "--help"],
        {
          env: { ...process.env, NODE_OPTIONS: "--max-semi-space-size=4" },
          encoding: "utf8",
        },
      );
      assert.match(out.stderr, /NODE_OPTIONS asks for --max-semi-space-size=4/);
      assert.is(out.status, 0, out.stderr);
    } finally {
      dir.remove();
    }
  },
);

/**
 * The main thread's young generation (MiB, its two semi-spaces) at its largest while a program
 * churns with a ring of survivors for `ms`, yielding to the event loop between rounds.
 */
const YOUNG_SCRIPT = `
import v8 from "node:v8";
const [flags, apply] = process.argv.slice(2);
const heap = await import(flags);
if (apply === "apply") heap.applyHeapFlags();
const young = () => v8.getHeapSpaceStatistics().find((x) => x.space_name === "new_space");
async function churn(ms) {
  let max = 0;
  const ring = new Array(100000);
  const end = Date.now() + ms;
  for (let i = 0; Date.now() < end; i++) {
    ring[i % ring.length] = [i, i + 1];
    if (i % 20000 === 0) {
      max = Math.max(max, young().space_size);
      await new Promise((r) => setImmediate(r));
    }
  }
  return Math.round(max / 1048576);
}
const small = await churn(1500);
const heldThen = heap.youngGenerationHeld() ? 1 : 0;
// An old generation past the young one's cap (two semi-spaces of 8 MiB): 24 MiB held.
const held = [];
for (let i = 0; i < 24 * 1024; i++) held.push(new Array(126).fill(i));
const grown = await churn(2500);
console.log(small, grown, heldThen, heap.youngGenerationHeld() ? 1 : 0, held.length);
`;

nodeOnly(
  "applyHeapFlags() holds the young generation at its size until the old one is as large as its cap",
  () => {
    const dir = tempDir("troupe-heap-flags-");
    try {
      const script = join(dir.path, "young.mjs");
      writeFileSync(script, YOUNG_SCRIPT);
      const flags = pathToFileURL(join(ROOT, "actors", "runtime", "host", "heap_flags.mjs")).href;
      const sizes = (nodeFlags: string[], apply: boolean) =>
        execFileSync(
          process.execPath,
          ["--max-semi-space-size=8", ...nodeFlags, script, flags, apply ? "apply" : "no"],
          { encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } },
        ).trim().split(" ").map(Number);
      const [heldSmall, heldGrown, heldThen, heldAfter] = sizes([], true);
      assert.is(heldSmall, 2, "held at 1 MiB a semi-space while the old generation is small");
      assert.is(heldGrown, 16, "grown to the cap once the old generation is past it");
      assert.equal([heldThen, heldAfter], [1, 0], "said held, then let go");
      // Without the flags, or with the user's own growth factor, V8 grows it from the start.
      assert.is(sizes([], false)[0], 16, "V8's own growth");
      assert.is(sizes(["--semi-space-growth-factor=4"], true)[0], 16, "the user's growth factor");
    } finally {
      dir.remove();
    }
  },
);

const OBSERVED_SCRIPT = `
import { PerformanceObserver } from "node:perf_hooks";
const types = [];
const observe = PerformanceObserver.prototype.observe;
PerformanceObserver.prototype.observe = function (options) {
  types.push(...(options.entryTypes ?? [options.type]));
  return observe.call(this, options);
};
const heap = await import(process.argv[2]);
heap.applyHeapFlags();
console.log(JSON.stringify({ types, held: heap.youngGenerationHeld() }));
`;

nodeOnly(
  "the hold watches for full collections without a gc observer (no call at every scavenge)",
  () => {
    const dir = tempDir("troupe-heap-flags-");
    try {
      const script = join(dir.path, "observed.mjs");
      writeFileSync(script, OBSERVED_SCRIPT);
      const flags = pathToFileURL(join(ROOT, "actors", "runtime", "host", "heap_flags.mjs")).href;
      const out = execFileSync(process.execPath, ["--max-semi-space-size=8", script, flags], {
        encoding: "utf8",
        env: { ...process.env, NODE_OPTIONS: "" },
      });
      assert.equal(JSON.parse(out), { types: [], held: true });
    } finally {
      dir.remove();
    }
  },
);

test("mallocTunablesFor() puts the command's malloc tunables before a child's GLIBC_TUNABLES, unless they are there", async () => {
  const { mallocTunablesFor, MALLOC_TUNABLES } = await import(
    "../../../../actors/runtime/host/heap_flags.mjs"
  );
  assert.is(mallocTunablesFor(undefined), MALLOC_TUNABLES);
  assert.is(mallocTunablesFor(""), MALLOC_TUNABLES);
  assert.is(
    mallocTunablesFor("glibc.malloc.arena_max=2"),
    `${MALLOC_TUNABLES}:glibc.malloc.arena_max=2`,
  );
  // The user's own come after the command's, and win.
  assert.is(
    mallocTunablesFor("glibc.malloc.hugetlb=0"),
    `${MALLOC_TUNABLES}:glibc.malloc.hugetlb=0`,
  );
  // What the command's `#!` line gives when the user set none: passed on as it is.
  assert.is(mallocTunablesFor(`${MALLOC_TUNABLES}:`), `${MALLOC_TUNABLES}:`);
  // The `#!` line sets the same, before the user's own.
  const first = readFileSync(join(ROOT, "cli/troupe.mjs"), "utf8").split("\n")[0]!;
  assert.ok(first.includes(`GLIBC_TUNABLES=${MALLOC_TUNABLES}:\${GLIBC_TUNABLES} node`), first);
});

/** The kernel's transparent huge pages mode (`always`, `madvise`, `never`), where it says. */
function thpMode(): string | undefined {
  try {
    return /\[(\w+)\]/.exec(readFileSync(THP_ENABLED, "utf8"))?.[1];
  } catch {
    return undefined;
  }
}

const THP_ENABLED = "/sys/kernel/mm/transparent_hugepage/enabled";

nodeOnly(
  "the command's #! line has glibc's malloc back array buffers with huge pages, and a GLIBC_TUNABLES of the user's wins",
  () => {
    if (thpMode() !== "madvise") {
      console.log(`  SKIP  huge pages: THP is ${thpMode() ?? "not there"} (${THP_ENABLED})`);
      return;
    }
    const dir = tempDir();
    try {
      // A script run the way the installed command is: by its own first line, the command's.
      const script = join(dir.path, "pages.mjs");
      const first = readFileSync(join(ROOT, "cli/troupe.mjs"), "utf8").split("\n")[0]!;
      writeFileSync(
        script,
        `${first}
import { readFileSync } from "node:fs";
const kept = [];
for (let i = 0; i < 8000; i++) kept.push(new Float64Array(1000).fill(i));
const m = /AnonHugePages:\\s+(\\d+) kB/.exec(readFileSync("/proc/self/smaps_rollup", "utf8"));
console.log(m[1], kept.length);
`,
        { mode: 0o755 },
      );
      const hugeKiB = (env: Record<string, string | undefined>) => {
        const out = execFileSync(script, [], { env: { ...process.env, ...env }, encoding: "utf8" });
        return Number(out.split(" ")[0]);
      };
      // 64 MB of array buffers: most of it in 2 MiB pages.
      assert.ok(
        hugeKiB({ GLIBC_TUNABLES: undefined }) >= 32 * 1024,
        "huge pages under the #! line",
      );
      assert.is(
        hugeKiB({ GLIBC_TUNABLES: "glibc.malloc.hugetlb=0" }),
        0,
        "the user's tunable wins",
      );
    } finally {
      dir.remove();
    }
  },
);

const MAPPED_SCRIPT = `
import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc");
const heapKiB = () => {
  const smaps = readFileSync("/proc/self/smaps", "utf8");
  return Number(/\\[heap\\]\\nSize:\\s+(\\d+) kB/.exec(smaps)?.[1] ?? 0);
};
// A block malloc maps on its own (16 MiB), freed: glibc's dynamic threshold rises to it.
let big = new Uint8Array(16 << 20).fill(1);
big = undefined;
for (let i = 0; i < 200 && process.memoryUsage().arrayBuffers > (8 << 20); i++) {
  gc();
  await new Promise((r) => setTimeout(r, 10));
}
const before = heapKiB();
const kept = [];
for (let i = 0; i < 8; i++) kept.push(new Uint8Array(2 << 20).fill(i));
console.log(Math.round((heapKiB() - before) / 1024), kept.length);
`;

nodeOnly(
  "the command's #! line keeps malloc's thresholds fixed: a 2 MiB buffer is mapped on its own after a larger one was freed",
  () => {
    const dir = tempDir();
    try {
      const script = join(dir.path, "mapped.mjs");
      const first = readFileSync(join(ROOT, "cli/troupe.mjs"), "utf8").split("\n")[0]!;
      writeFileSync(script, `${first}\n${MAPPED_SCRIPT}`, { mode: 0o755 });
      const env = { ...process.env, GLIBC_TUNABLES: undefined, NODE_OPTIONS: "" };
      const heapGrowthMb = (cmd: string, args: string[]) =>
        Number(execFileSync(cmd, args, { env, encoding: "utf8" }).split(" ")[0]);
      // glibc's own: the threshold raised to 16 MiB, eight buffers of 2 MiB in its heap.
      assert.is(heapGrowthMb(process.execPath, [script]), 16, "glibc's dynamic threshold");
      // Under the command's line: mapped each on its own, given back whole when freed.
      assert.is(heapGrowthMb(script, []), 0, "the thresholds the #! line fixes");
    } finally {
      dir.remove();
    }
  },
);

test.run();

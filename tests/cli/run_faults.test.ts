/**
 * Fatal errors of `troupe run`, against real processes and a real nats-server: each start-up
 * failure prints one line naming the cause and the value, and exits 1 on its own (a run still
 * going after a bound far past any loaded machine's start-up is killed, and fails the check: the
 * old behaviour was a hang with the connection open);
 * a host whose nats-server went away stops on SIGTERM; a disk that fills at run time stops the
 * host with the file named and no lock file left.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import process from "node:process";
import { freePort } from "../../actors/runtime/mod.ts";
import { runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";

const test = suite("troupe run: fatal errors");

/**
 * A run still going after this is a hang, and is killed (its code is then null). Not a speed
 * bound: the same run takes under a second on a quiet machine and several on a loaded one.
 */
const HANG_MS = 30_000;

async function runTimed(args: string[]) {
  const t0 = Date.now();
  const r = await runTroupe(args, { timeoutMs: HANG_MS });
  return { ...r, ms: Date.now() - t0 };
}

/** Asserts exit 1, in time, with exactly one line on stderr that holds every one of `needles`. */
function assertOneLine(r: Awaited<ReturnType<typeof runTimed>>, needles: string[]) {
  assert.is(r.code, 1, `exit ${r.code} after ${r.ms} ms: ${r.stderr}`);
  const lines = r.stderr.trim().split("\n");
  assert.is(lines.length, 1, r.stderr);
  assert.not.match(r.stderr, /\n\s+at /, "no stack trace");
  for (const n of needles) assert.match(lines[0]!, n);
}

/** A tmpfs of `kb` KiB at a fresh directory, or undefined where mounting is not allowed. */
function tmpfs(kb: number): { path: string; readOnly(): void; remove(): void } | undefined {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return undefined;
  const dir = tempDir("troupe-tmpfs-");
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${kb}k`, "tmpfs", dir.path], {
      stdio: "ignore",
    });
  } catch {
    dir.remove();
    return undefined;
  }
  return {
    path: dir.path,
    readOnly: () => execFileSync("mount", ["-o", "remount,ro", dir.path], { stdio: "ignore" }),
    remove() {
      execFileSync("umount", ["-l", dir.path], { stdio: "ignore" });
      dir.remove();
    },
  };
}

function skipLoud(what: string) {
  console.log(`\n  !!! SKIPPED ${what}: needs root and tmpfs mounts (Linux) !!!\n`);
}

test("NATS unreachable: one line with the URL, exit 1", async () => {
  const port = await freePort();
  const dir = tempDir();
  try {
    const url = `nats://127.0.0.1:${port}`;
    const r = await runTimed(["run", "--nats", url, "--data-dir", join(dir.path, "d")]);
    assertOneLine(r, [url, "Cannot connect to NATS"]);
  } finally {
    dir.remove();
  }
});

test("a bad NATS URL or limit is a config error (exit 2) naming the field; extra words a usage error", async () => {
  const dir = tempDir();
  try {
    const bad: Array<[unknown, string, string]> = [
      [{ nats: "not a url" }, '"nats"', "not a url"],
      [{ limits: { frame_bytes_max: 1e20 } }, "limits.frame_bytes_max", "<= 67108864"],
    ];
    for (const [i, [config, field, value]] of bad.entries()) {
      const path = join(dir.path, `bad${i}.json`);
      writeFileSync(path, JSON.stringify(config));
      const r = await runTroupe(["run", "--config", path]);
      assert.is(r.code, 2, r.stderr);
      assert.match(r.stderr, field);
      assert.match(r.stderr, value);
      assert.not.match(r.stderr, /\n\s+at /);
    }
    const opt = await runTroupe(["run", "--nats", "not a url"]);
    assert.is(opt.code, 2, opt.stderr);
    assert.match(opt.stderr, "Option --nats");
    const extra = await runTroupe(["run", "extra", "words"]);
    assert.is(extra.code, 2, extra.stderr);
    assert.match(extra.stderr, '"extra words"');
  } finally {
    dir.remove();
  }
});

test("record --subjects refuses overlapping patterns, exit 2", async () => {
  const dir = tempDir();
  try {
    const r = await runTroupe([
      "record",
      "--out",
      join(dir.path, "r.rec"),
      "--subjects",
      "troupe.feed.>,troupe.*.x",
    ]);
    assert.is(r.code, 2, r.stderr);
    assert.match(r.stderr, 'overlapping patterns "troupe.feed.>" and "troupe.*.x"');
  } finally {
    dir.remove();
  }
});

test("HTTP port taken: one line with the port, exit 1", async () => {
  const blocker: Server = createServer();
  const port = await new Promise<number>((resolve) =>
    blocker.listen(0, "127.0.0.1", () => resolve((blocker.address() as { port: number }).port))
  );
  const dir = tempDir();
  try {
    const r = await runTimed(["run", "--http-port", String(port), "--data-dir", dir.path]);
    assertOneLine(r, [`127.0.0.1:${port}`, "in use"]);
    assert.not.ok(existsSync(join(dir.path, "journal", "LOCK")), "the journal lock is released");
  } finally {
    blocker.close();
    dir.remove();
  }
});

test("damaged positions file and segment header: one line with the file, exit 1", async () => {
  const dir = tempDir();
  try {
    const journal = join(dir.path, "journal");
    mkdirSync(journal, { recursive: true });
    writeFileSync(join(journal, "positions"), "not a positions file");
    const r = await runTimed(["run", "--data-dir", dir.path]);
    assertOneLine(r, [join(journal, "positions"), "damaged"]);
    const dir2 = join(dir.path, "two");
    mkdirSync(join(dir2, "journal"), { recursive: true });
    writeFileSync(join(dir2, "journal", "00000001.seg"), "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
    const r2 = await runTimed(["run", "--data-dir", dir2]);
    assertOneLine(r2, [join(dir2, "journal", "00000001.seg")]);
  } finally {
    dir.remove();
  }
});

test("read-only and full disks at start: one line with the cause and the file, no lock left", async () => {
  const ro = tmpfs(256);
  if (!ro) return skipLoud("read-only and full disks");
  try {
    mkdirSync(join(ro.path, "d"));
    ro.readOnly();
    const r = await runTimed(["run", "--data-dir", join(ro.path, "d")]);
    assertOneLine(r, [join(ro.path, "d"), "EROFS"]);
  } finally {
    ro.remove();
  }
  const full = tmpfs(64);
  if (!full) return skipLoud("full disk");
  try {
    mkdirSync(join(full.path, "d", "journal"), { recursive: true });
    let i = 0;
    try {
      for (;; i++) writeFileSync(join(full.path, `fill${i}`), new Uint8Array(4096));
    } catch {
      // full
    }
    const r = await runTimed(["run", "--data-dir", join(full.path, "d")]);
    assertOneLine(r, ["ENOSPC"]);
    const left = readdirSync(join(full.path, "d", "journal")).filter((n) => n.startsWith("LOCK"));
    assert.equal(left, [], "no lock file is left");
  } finally {
    full.remove();
  }
});

if (haveNatsServer("troupe run: fatal errors with NATS")) {
  test("data directory locked by a running host: one line with its process id, exit 1", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const first = startTroupe(["run", "--nats", nats.url, "--data-dir", dir.path]);
    try {
      await first.waitFor("troupe run: host");
      const r = await runTimed(["run", "--nats", nats.url, "--data-dir", dir.path]);
      assertOneLine(r, [`process ${first.child.pid}`, join(dir.path, "journal")]);
    } finally {
      first.signal("SIGTERM");
      assert.is(await first.exited, 0, first.output());
      await nats.cleanup();
      dir.remove();
    }
  });

  test("a host whose nats-server went away stops on SIGTERM", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const host = startTroupe(["run", "--nats", nats.url, "--data-dir", dir.path]);
    try {
      await host.waitFor("troupe run: host");
      await nats.stop();
      await host.waitFor("NATS disconnect");
      const t0 = Date.now();
      host.signal("SIGTERM");
      const code = await Promise.race([
        host.exited,
        new Promise<string>((r) => setTimeout(() => r("hung"), 15_000)),
      ]);
      assert.ok(code === 0 || code === 1, `${code}: ${host.output()}`);
      assert.ok(Date.now() - t0 < 15_000);
    } finally {
      host.signal("SIGKILL");
      await nats.cleanup();
      dir.remove();
    }
  });

  test("a disk that fills at run time: the host stops appending, names the file, exit 1, no lock left", async () => {
    const disk = tmpfs(1024);
    if (!disk) return skipLoud("a disk that fills at run time");
    const nats = await startTestNats();
    const data = join(disk.path, "d");
    const host = startTroupe(["run", "--nats", nats.url, "--data-dir", data]);
    try {
      await host.waitFor("troupe run: host");
      const feed = startTroupe([
        "inject",
        "--nats",
        nats.url,
        "--rate",
        "200000",
        "--duration",
        "60",
        "--channels",
        "20",
      ]);
      const code = await Promise.race([
        host.exited,
        new Promise<string>((r) => setTimeout(() => r("still running"), 60_000)),
      ]);
      feed.signal("SIGTERM");
      await feed.exited;
      assert.is(code, 1, host.output());
      assert.match(host.output(), /stopped: .*journal.*ENOSPC/);
      assert.match(host.output(), join(data, "journal"));
      assert.not.match(host.output(), /\n\s+at /, host.output());
      const left = readdirSync(join(data, "journal")).filter((n) => n.startsWith("LOCK"));
      assert.equal(left, [], "no lock file is left");
    } finally {
      host.signal("SIGKILL");
      await nats.cleanup();
      disk.remove();
    }
  });
}

test.run();

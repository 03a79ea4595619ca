import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { DirLockedError, LOCK_FILE, lockDir } from "../../../../actors/runtime/journal/dir_lock.ts";
import { FileJournal } from "../../../../actors/runtime/journal/file_journal.ts";
import { tempDir } from "../../../_support/nats.ts";

const test = suite("dir_lock");

test("a journal directory opened twice is refused the second time, naming the holder", async () => {
  const dir = tempDir();
  try {
    const a = await FileJournal.open(dir.path, { fsync: "never" });
    assert.is(readFileSync(join(dir.path, LOCK_FILE), "utf8").trim(), String(process.pid));
    try {
      await FileJournal.open(dir.path, { fsync: "never" });
      assert.unreachable("the second open should fail");
    } catch (err) {
      assert.instance(err, DirLockedError);
      assert.match((err as Error).message, `process ${process.pid}`);
      assert.match((err as Error).message, dir.path);
    }
    await a.close();
    assert.not.ok(existsSync(join(dir.path, LOCK_FILE)), "close() removes the lock file");
    const b = await FileJournal.open(dir.path, { fsync: "never" });
    await b.close();
  } finally {
    dir.remove();
  }
});

test("a directory held by another live process is refused; one left by a dead process is taken over", async () => {
  const dir = tempDir();
  // A child that sleeps: a live process that is not this one.
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], {
    stdio: "ignore",
  });
  try {
    const pid = child.pid!;
    writeFileSync(join(dir.path, LOCK_FILE), `${pid}\n`);
    assert.throws(
      () => lockDir(dir.path),
      (e: unknown) => e instanceof DirLockedError && e.pid === pid,
    );
    const exited = new Promise((done) => child.once("exit", done));
    child.kill("SIGKILL");
    await exited;
    // Deno reports the exit as the signal is sent: give the kernel a moment to finish the process.
    let lock: ReturnType<typeof lockDir> | undefined;
    for (let waited = 0; !lock; waited += 20) {
      try {
        lock = lockDir(dir.path);
      } catch (err) {
        if (!(err instanceof DirLockedError) || waited > 5000) throw err;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    assert.is(lock.tookOverPid, pid);
    assert.is(readFileSync(join(dir.path, LOCK_FILE), "utf8").trim(), String(process.pid));
    lock.release();
  } finally {
    child.kill("SIGKILL");
    dir.remove();
  }
});

test("a simulated crash leaves the lock file, and the same process may open the directory again", async () => {
  const dir = tempDir();
  try {
    const a = await FileJournal.open(dir.path, { fsync: "never" });
    a.append("s", new Uint8Array([1]));
    a.simulateCrash();
    assert.ok(existsSync(join(dir.path, LOCK_FILE)), "a crash leaves its lock behind");
    const b = await FileJournal.open(dir.path, { fsync: "never" });
    await b.close();
  } finally {
    dir.remove();
  }
});

test.run();

/**
 * The step watchdog's thread (see step_watch.ts): it reads, every few milliseconds, which step the
 * host's thread is in and since when; a step past its kind's deadline is written to the overrun
 * file, said on stderr (written here: the host's thread, which would print it, is the one stuck),
 * and the process is ended with SIGKILL, the one way to stop a thread that never yields. Private
 * to the host folder.
 */
import { renameSync, writeFileSync, writeSync } from "node:fs";
import process from "node:process";
import { parentPort, workerData } from "node:worker_threads";
import type { StepWatchdogData } from "./step_watch.ts";
import { NamesReader } from "./_watch_names.ts";
import { dlqSubject, type StepOverrun } from "../../../protocol/mod.ts";

/** How often the shared cell is read, ms: a fraction of the shortest deadline allowed. */
const CHECK_EVERY_MS = 20;

const data = workerData as StepWatchdogData;
const cell = new Float64Array(data.cell);
const watched = new NamesReader();

// The logs the host's thread names its instances in (_watch_names.ts), as it starts each.
(data.port ?? parentPort!).on("message", (m: unknown) => watched.take(m));

setInterval(() => {
  const began = cell[0]!;
  if (began === 0) return;
  const id = cell[1]!, pos = cell[2]!, srcPos = cell[3]!;
  if (cell[0] !== began) return; // another step began meanwhile
  const inst = watched.get(id);
  const elapsed = performance.timeOrigin + performance.now() - began;
  if (!inst || elapsed <= inst.deadlineMs) return;
  const overrun: StepOverrun = {
    stream: inst.stream,
    kind: inst.kind,
    key: inst.key,
    pos,
    src_pos: srcPos,
    elapsed_ms: Math.round(elapsed),
    deadline_ms: inst.deadlineMs,
    ...(inst.host === undefined ? {} : { host: inst.host }),
  };
  const tmp = `${data.file}.tmp`;
  writeFileSync(tmp, JSON.stringify(overrun));
  renameSync(tmp, data.file);
  const host = inst.host === undefined ? "" : `${inst.host}: `;
  writeSync(
    2,
    `[${data.hostId}] ${host}${inst.stream}: a step ran past its deadline of ` +
      `${inst.deadlineMs} ms ` +
      `(its input at position ${pos}, source position ${srcPos}, ${overrun.elapsed_ms} ms so ` +
      `far); ending the host: its next start skips the input and sends it to ` +
      `${dlqSubject("deadline")}\n`,
  );
  process.kill(process.pid, "SIGKILL");
}, CHECK_EVERY_MS);

/**
 * One load of `troupe bench pages`'s fault schedule, in a process of its own so the node exporter
 * sees it as any other process's load: `cpu` spins one core; `memory MB` allocates MB MiB and
 * writes every page of it, then holds it; `disk FILE MB` writes 4 MiB blocks to FILE, each
 * fsync'd, starting over at MB MiB. It prints `{"started":true}` once its load is on (the
 * memory's first chunk touched; `{"full":true}` follows when all of it is), and runs until it is
 * killed.
 */
import { closeSync, fsyncSync, ftruncateSync, openSync, writeSync } from "node:fs";
import process from "node:process";

const BLOCK_BYTES = 4 << 20;
const CHUNK_BYTES = 64 << 20;

function started(): void {
  process.stdout.write(`${JSON.stringify({ started: true })}\n`);
}

function spin(): void {
  started();
  let x = 0;
  for (;;) x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
}

/**
 * Takes `mib` MiB, a chunk at a time, each page written: says it started once its first chunk is
 * held (the load has begun: the node already shows it), then `{"full":true,"ms":N}` once all is
 * held, with the time the filling took (tens of seconds for most of a machine's memory, longer
 * where the hypervisor backs a guest's memory only as it is first touched).
 */
function balloon(mib: number): void {
  const held: Uint8Array[] = [];
  const t0 = performance.now();
  for (let left = mib * (1 << 20); left > 0; left -= CHUNK_BYTES) {
    held.push(new Uint8Array(Math.min(left, CHUNK_BYTES)).fill(1));
    if (held.length === 1) started();
  }
  const ms = Math.round(performance.now() - t0);
  process.stdout.write(`${JSON.stringify({ full: true, ms })}\n`);
  setInterval(() => held.length, 60_000);
}

function writeBurst(file: string, mib: number): void {
  const fd = openSync(file, "w");
  const block = new Uint8Array(BLOCK_BYTES).fill(7);
  started();
  let written = 0;
  try {
    for (;;) {
      if (written + BLOCK_BYTES > mib * (1 << 20)) {
        ftruncateSync(fd, 0);
        written = 0;
      }
      writeSync(fd, block, 0, block.length, written);
      fsyncSync(fd);
      written += BLOCK_BYTES;
    }
  } finally {
    closeSync(fd);
  }
}

const [mode, a, b] = process.argv.slice(2);
if (mode === "cpu") spin();
else if (mode === "memory") balloon(Number(a));
else if (mode === "disk") writeBurst(a!, Number(b));
else {
  process.stderr.write(`bench/_fault_load.ts: unknown load "${mode}" (cpu, memory, disk)\n`);
  process.exit(2);
}

/**
 * Test support: troupe as a user gets it. Builds the package (`npm run build`), packs it
 * (`npm pack`) and installs the tarball into a fresh project in the temporary directory, outside
 * the repository, once per state of the sources: the two runtimes' test processes share one
 * installation (the first to come builds it under a lock, the other waits for it).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import process from "node:process";
import { ROOT } from "./cli.ts";

const SOURCES = [
  "mod.ts",
  "testing.ts",
  "package.json",
  "protocol",
  "actors",
  "sim",
  "collab",
  "cli",
];
/** How long a second test process waits for the first one's installation. */
const WAIT_MS = 300_000;

/** The sources' paths, sizes and modification times (whole ms: Node and Deno agree on those). */
function fingerprint(): string {
  const h = createHash("sha256");
  const walk = (path: string) => {
    const st = statSync(path);
    if (st.isDirectory()) {
      for (const name of readdirSync(path).sort()) {
        if (name !== "node_modules" && !name.startsWith(".")) walk(join(path, name));
      }
    } else h.update(`${relative(ROOT, path)} ${st.size} ${Math.floor(st.mtimeMs)}\n`);
  };
  for (const s of SOURCES) if (existsSync(join(ROOT, s))) walk(join(ROOT, s));
  return h.digest("hex").slice(0, 16);
}

/** A project with troupe installed from its packed tarball. */
export interface PackedProject {
  /** The project's folder (its package.json, node_modules/troupe). */
  dir: string;
  /** How long building, packing and installing took here, s (0 when another process did it). */
  setupS: number;
}

/**
 * The fresh project with the packed troupe installed, made now or by the other runtime's test
 * process. `npm install` reads the registry's packages from npm's cache where it can.
 */
export async function packedProject(): Promise<PackedProject> {
  const base = join(tmpdir(), `troupe-packed-${fingerprint()}`);
  const ready = join(base, "ready");
  const lock = join(`${base}.lock`);
  const t0 = performance.now();
  if (existsSync(ready)) return { dir: join(base, "project"), setupS: 0 };
  let mine = false;
  try {
    mkdirSync(lock);
    mine = true;
  } catch {
    // Another process is making it.
  }
  if (!mine) {
    while (!existsSync(ready)) {
      if (performance.now() - t0 > WAIT_MS) {
        throw new Error(`Timed out after ${WAIT_MS} ms waiting for ${ready} (lock ${lock})`);
      }
      if (!existsSync(lock) && !existsSync(ready)) return await packedProject();
      await new Promise((r) => setTimeout(r, 200));
    }
    return { dir: join(base, "project"), setupS: 0 };
  }
  try {
    rmSync(base, { recursive: true, force: true });
    mkdirSync(join(base, "project"), { recursive: true });
    const npm = (args: string[], cwd: string) =>
      execFileSync("npm", args, { cwd, stdio: ["ignore", "pipe", "pipe"], env: process.env });
    npm(["run", "build"], ROOT);
    const out = npm(["pack", "--ignore-scripts", "--pack-destination", base], ROOT).toString();
    const tarball = join(base, out.trim().split("\n").pop()!);
    const project = join(base, "project");
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({ name: "my-detectors", private: true, type: "module" }, null, 2),
    );
    npm(["install", "--prefer-offline", "--no-audit", "--no-fund", tarball], project);
    writeFileSync(ready, tarball);
    return { dir: project, setupS: (performance.now() - t0) / 1000 };
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * The Node.js troupe says it runs on is true of what it installs: every package in the lock file
 * that troupe runs with (dev tools aside) accepts package.json's minimum, so `npm install` on that
 * Node prints no engine warning; and the README states that minimum. (Issue 12: @nats-io/nuid 3
 * asked for Node 22 while the README said 20.15.)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import semver from "semver";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ROOT } from "../_support/cli.ts";

const test = suite("engines");

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  engines: { node: string };
};
const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
  packages: Record<string, { dev?: boolean; engines?: { node?: string } | string[] }>;
};
const minimum = semver.minVersion(pkg.engines.node)!.version;

test("every package troupe runs with accepts package.json's minimum Node.js", () => {
  const refusing: string[] = [];
  for (const [path, info] of Object.entries(lock.packages)) {
    if (path === "" || info.dev || Array.isArray(info.engines)) continue;
    const range = info.engines?.node;
    if (range !== undefined && !semver.satisfies(minimum, range)) {
      refusing.push(`${path.replace(/^node_modules\//, "")} asks for node ${range}`);
    }
  }
  assert.equal(refusing, [], `Node ${minimum}: ${refusing.join("; ")}`);
});

test("the README states the same minimum", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const short = minimum.replace(/\.0$/, "");
  assert.match(readme, `Node.js ${short}+`);
  assert.match(readme, `Node.js ${short} or later`);
});

test.run();

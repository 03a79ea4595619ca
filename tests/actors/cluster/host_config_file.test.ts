/**
 * loadHostConfig(), a host's configuration file as troupe run and troupe record read it: a file
 * that cannot be read or is not JSON is a ConfigError naming the path, a bad incident section is
 * refused before anything starts, and the command line's NATS URL wins over the file's.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { loadHostConfig } from "../../../actors/cluster/mod.ts";
import { ConfigError } from "../../../protocol/mod.ts";
import { tempDir } from "../../_support/nats.ts";

const test = suite("host_config_file");

async function refusal(path: string): Promise<ConfigError> {
  try {
    await loadHostConfig(path);
  } catch (err) {
    assert.instance(err, ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadHostConfig(${path}) did not refuse it`);
}

test("loadHostConfig() names the path of a file it cannot read, or one that is not JSON", async () => {
  const dir = tempDir();
  try {
    const missing = join(dir.path, "absent.json");
    assert.match((await refusal(missing)).message, `Cannot read config file ${missing}: `);
    const bad = join(dir.path, "bad.json");
    writeFileSync(bad, '{ "host_id": ');
    assert.match((await refusal(bad)).message, `Config file ${bad} is not valid JSON: `);
  } finally {
    dir.remove();
  }
});

test("loadHostConfig() refuses a bad incidents section before anything starts, naming its field", async () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, "host.json");
    writeFileSync(path, JSON.stringify({ incidents: { hold_us: -5 } }));
    const err = await refusal(path);
    assert.match(`${err.field} ${err.message}`, "hold_us");
    assert.match(err.message, "-5");
  } finally {
    dir.remove();
  }
});

test("loadHostConfig() reads the file with the NATS URL given over it; no file: the defaults", async () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, "host.json");
    const dataDir = join(dir.path, "d");
    writeFileSync(
      path,
      JSON.stringify({ host_id: "from-file", nats: "nats://127.0.0.1:4001", data_dir: dataDir }),
    );
    const { config, kinds } = await loadHostConfig(path, { nats: "nats://127.0.0.1:4002" });
    assert.is(config.host_id, "from-file");
    assert.is(config.nats, "nats://127.0.0.1:4002");
    assert.is(config.input, "jetstream");
    assert.is(config.data_dir, dataDir);
    assert.equal(kinds.modules, []);
    const defaults = await loadHostConfig(undefined);
    assert.is(defaults.config.data_dir, ".troupe/host-1");
  } finally {
    dir.remove();
  }
});

test.run();

/**
 * The discovery files `troupe up` leaves for the other commands (nats.url, http.url, collab.json),
 * written, read and removed by one helper: a file is removed only while it holds this `up`'s value,
 * a token-holding file is the owner's alone even when it existed before, and a URL resolves from
 * the option, else the file, else the default.
 */
import { chmodSync, existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  readCollabFile,
  readDiscoveryFile,
  removeCollabFile,
  removeDiscoveryFile,
  removeNatsUrl,
  resolveNatsUrl,
  resolveUrl,
  urlFile,
  writeCollabFile,
  writeDiscoveryFile,
  writeNatsUrl,
} from "../../../../actors/cluster/data_dir/mod.ts";
import { tempDir } from "../../../_support/nats.ts";

const test = suite("discovery files");

test("a URL file resolves option, then file, then default; an empty file is no URL", () => {
  const dir = tempDir();
  try {
    const file = urlFile("x.url");
    const options = { file, fallback: "http://default", dataDir: dir.path };
    assert.equal(resolveUrl(undefined, options), { url: "http://default", from: "default" });
    writeDiscoveryFile(dir.path, file, "http://up:1");
    assert.equal(resolveUrl(undefined, options), { url: "http://up:1", from: "file" });
    assert.equal(resolveUrl("http://mine", options), { url: "http://mine", from: "option" });
    writeFileSync(join(dir.path, "x.url"), "  \n");
    assert.is(readDiscoveryFile(dir.path, file), undefined);
  } finally {
    dir.remove();
  }
});

test("removeDiscoveryFile() leaves a file another troupe up has written since", () => {
  const dir = tempDir();
  try {
    writeNatsUrl(dir.path, "nats://127.0.0.1:5000");
    removeNatsUrl(dir.path, "nats://127.0.0.1:4999");
    assert.equal(resolveNatsUrl(undefined, dir.path), {
      url: "nats://127.0.0.1:5000",
      from: "file",
    });
    removeNatsUrl(dir.path, "nats://127.0.0.1:5000");
    assert.ok(!existsSync(join(dir.path, "nats.url")));
    removeDiscoveryFile(dir.path, urlFile("nats.url"), "gone"); // an absent file is no error
  } finally {
    dir.remove();
  }
});

test("collab.json is the owner's alone, even over an older file, and a malformed one names its path", () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, "collab.json");
    writeFileSync(path, "{}");
    chmodSync(path, 0o644);
    const file = {
      stream: "ws://h:1/stream",
      dashboard: "http://h:1/",
      session: "s",
      token: "t",
      exp: 9,
    };
    writeCollabFile(dir.path, file);
    assert.is(statSync(path).mode & 0o777, 0o600);
    assert.equal(readCollabFile(dir.path), file);
    removeCollabFile(dir.path, "ws://other/stream");
    assert.ok(existsSync(path));
    removeCollabFile(dir.path, file.stream);
    assert.ok(!existsSync(path));
    writeFileSync(path, "not json");
    assert.throws(() => readCollabFile(dir.path), (e: Error) => e.message.includes(path));
  } finally {
    dir.remove();
  }
});

test.run();

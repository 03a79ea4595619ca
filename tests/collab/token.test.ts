import { suite } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  admitToken,
  Keyring,
  loadKeyring,
  mintToken,
  parseTtl,
  SECRET_FILE,
  TokenError,
  verifyToken,
} from "../../collab/mod.ts";
import { runTroupe } from "../_support/cli.ts";
import { tempDir } from "../_support/nats.ts";

const test = suite("collab tokens");
const enc = (s: string) => new TextEncoder().encode(s);
const NOW = 1_800_000_000_000;

async function rejects(fn: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await fn();
  } catch (err) {
    assert.match((err as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a rejection matching ${pattern}`);
}

async function refused(promise: Promise<unknown>, reason: string): Promise<void> {
  try {
    await promise;
  } catch (err) {
    assert.instance(err, TokenError);
    assert.is((err as TokenError).reason, reason, (err as Error).message);
    return;
  }
  assert.unreachable(`expected a TokenError "${reason}"`);
}

test("mintToken() and verifyToken() round-trip the session, role, expiry and key id", async () => {
  const ring = await Keyring.fromSecrets([enc("a-secret-of-enough-bytes")]);
  const token = await mintToken(ring, { session: "ops", role: "viewer", ttlS: 60, nowMs: NOW });
  const claims = await verifyToken(ring, token, { session: "ops", nowMs: NOW + 59_000 });
  assert.equal(claims, {
    session: "ops",
    role: "viewer",
    exp: NOW / 1000 + 60,
    kid: ring.currentKid,
  });
});

test("verifyToken() refuses a missing, malformed, forged, expired or other-session token", async () => {
  const ring = await Keyring.fromSecrets([enc("a-secret-of-enough-bytes")]);
  const other = await Keyring.fromSecrets([enc("another-secret-of-16+")]);
  const token = await mintToken(ring, { session: "ops", role: "owner", ttlS: 60, nowMs: NOW });
  const at = { session: "ops", nowMs: NOW };
  await refused(verifyToken(ring, undefined, at), "missing");
  await refused(verifyToken(ring, "", at), "missing");
  await refused(verifyToken(ring, "abc", at), "malformed");
  await refused(verifyToken(ring, "a.b.c", at), "malformed");
  await refused(verifyToken(ring, "!!!.???", at), "malformed");
  await refused(verifyToken(other, token, at), "unknown_key");
  // The payload changed (role viewer -> owner style tampering): the signature no longer matches.
  const [payload, sig] = token.split(".") as [string, string];
  const forged = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")));
  forged.session = "finance";
  const forgedPayload = btoa(JSON.stringify(forged)).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
  await refused(
    verifyToken(ring, `${forgedPayload}.${sig}`, { ...at, session: "finance" }),
    "signature",
  );
  const flipped = sig.startsWith("A") ? "B" + sig.slice(1) : "A" + sig.slice(1);
  await refused(verifyToken(ring, `${payload}.${flipped}`, at), "signature");
  await refused(verifyToken(ring, token, { session: "ops", nowMs: NOW + 60_000 }), "expired");
  await refused(verifyToken(ring, token, { session: "ops2", nowMs: NOW }), "session");
});

test("admitToken() answers a refused token once with 401 and its reason, and admits a good one", async () => {
  const ring = await Keyring.fromSecrets([enc("a-secret-of-enough-bytes")]);
  const token = await mintToken(ring, { session: "ops", role: "editor", ttlS: 60, nowMs: NOW });
  const denied: [number, string][] = [];
  const counted: string[] = [];
  const options = {
    keyring: ring,
    session: "ops",
    nowMs: NOW,
    onRefused: (reason: string) => counted.push(reason),
  };
  const deny = (status: number, message: string) => denied.push([status, message]);
  const url = (q: string) => new URL(`http://collab/collab/ops${q}`);
  const claims = await admitToken(url(`?token=${token}`), options, deny);
  assert.is(claims?.role, "editor");
  assert.equal(denied, []);
  assert.is(await admitToken(url(""), options, deny), undefined);
  assert.is(
    await admitToken(url(`?token=${token}`), { ...options, session: "dev" }, deny),
    undefined,
  );
  assert.equal(counted, ["missing", "session"]);
  assert.equal(denied.map(([status]) => status), [401, 401]);
  assert.match(denied[1]![1], 'Token is for session "ops", not "dev"');
});

test("a keyring verifies tokens of its older keys and signs with its first (rotation)", async () => {
  const old = await Keyring.fromSecrets([enc("the-old-secret-0001")]);
  const rotated = await Keyring.fromSecrets([
    enc("the-new-secret-0002"),
    enc("the-old-secret-0001"),
  ]);
  const oldToken = await mintToken(old, { session: "s", role: "editor", ttlS: 60, nowMs: NOW });
  assert.is(
    (await verifyToken(rotated, oldToken, { session: "s", nowMs: NOW })).kid,
    old.currentKid,
  );
  const newToken = await mintToken(rotated, { session: "s", role: "editor", ttlS: 60, nowMs: NOW });
  await refused(verifyToken(old, newToken, { session: "s", nowMs: NOW }), "unknown_key");
});

test("mintToken() and Keyring reject bad input naming the value", async () => {
  const ring = await Keyring.fromSecrets([enc("a-secret-of-enough-bytes")]);
  await rejects(() => Keyring.fromSecrets([enc("short")]), /at least 16 bytes, got 5/);
  await rejects(
    () => mintToken(ring, { session: "a b", role: "editor", ttlS: 1, nowMs: NOW }),
    /got "a b"/,
  );
  await rejects(
    // deno-lint-ignore no-explicit-any
    () => mintToken(ring, { session: "a", role: "admin" as any, ttlS: 1, nowMs: NOW }),
    /got admin/,
  );
  await rejects(
    () => mintToken(ring, { session: "a", role: "editor", ttlS: 0, nowMs: NOW }),
    /got 0/,
  );
  assert.is(parseTtl("8h"), 28800);
  assert.is(parseTtl("90"), 90);
  assert.throws(() => parseTtl("8 hours"), /got "8 hours"/);
});

test("loadKeyring() creates collab.secret once with mode 0600 and reuses it", async () => {
  const dir = tempDir();
  try {
    const a = await loadKeyring({ dataDir: dir.path, envSecret: undefined });
    const path = join(dir.path, SECRET_FILE);
    assert.is(statSync(path).mode & 0o777, 0o600);
    const text = readFileSync(path, "utf8");
    const b = await loadKeyring({ dataDir: dir.path, envSecret: undefined });
    assert.is(b.currentKid, a.currentKid);
    assert.is(readFileSync(path, "utf8"), text);
    const env = await loadKeyring({
      dataDir: dir.path,
      envSecret: "from-the-environment-1,x-old-secret-of-16b",
    });
    assert.is.not(env.currentKid, a.currentKid);
    assert.is(env.keys.length, 2);
    // A secret others can read is refused, naming the file and its mode.
    chmodSync(path, 0o644);
    try {
      await loadKeyring({ dataDir: dir.path, envSecret: undefined });
      assert.unreachable("a secret readable by others was taken");
    } catch (err) {
      assert.match((err as Error).message, `${path} must be readable by its owner only`);
      assert.match((err as Error).message, "got 644");
    }
  } finally {
    dir.remove();
  }
});

test("troupe token prints a token the data directory's keyring accepts; bad usage exits 2", async () => {
  const dir = tempDir();
  try {
    const r = await runTroupe([
      "token",
      "--session",
      "ops",
      "--role",
      "viewer",
      "--ttl",
      "1h",
      "--data-dir",
      dir.path,
    ]);
    assert.is(r.code, 0, r.stderr);
    const ring = await loadKeyring({ dataDir: dir.path, envSecret: undefined });
    const claims = await verifyToken(ring, r.stdout.trim(), { session: "ops", nowMs: Date.now() });
    assert.is(claims.role, "viewer");
    const ttlS = claims.exp - Date.now() / 1000;
    assert.ok(ttlS > 3500 && ttlS <= 3600, `--ttl 1h: expires in ${ttlS} s`);
    const byDefault = await runTroupe(["token", "--session", "ops", "--data-dir", dir.path]);
    assert.is(byDefault.code, 0, byDefault.stderr);
    const d = await verifyToken(ring, byDefault.stdout.trim(), {
      session: "ops",
      nowMs: Date.now(),
    });
    assert.is(d.role, "editor", "the default role");
    const defaultS = d.exp - Date.now() / 1000;
    assert.ok(defaultS > 8 * 3600 - 100 && defaultS <= 8 * 3600, `default: ${defaultS} s`);
    const bad = await runTroupe([
      "token",
      "--session",
      "ops",
      "--role",
      "admin",
      "--data-dir",
      dir.path,
    ]);
    assert.is(bad.code, 2);
    assert.match(bad.stderr, 'got "admin"');
    const none = await runTroupe(["token", "--data-dir", dir.path]);
    assert.is(none.code, 2);
    assert.match(none.stderr, "--session is required");
  } finally {
    dir.remove();
  }
});

test.run();

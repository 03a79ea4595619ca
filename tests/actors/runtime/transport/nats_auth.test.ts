/**
 * NATS credentials against real nats-servers that require them: user and password, a token,
 * nkeys, a creds file, and TLS with a client certificate the server verifies. In each, a host's
 * connection (the host config's `nats` section, through the host's own connectBus) and a command
 * (`troupe status`, through its options or the environment) get in, wrong credentials are
 * refused, and no secret shows in anything printed.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { nkeys } from "@nats-io/transport-node";
import { NatsServer } from "../../../../actors/runtime/transport/nats_server.ts";
import { parseHostConfig, redactNatsUrl, splitNatsUrl } from "../../../../actors/runtime/mod.ts";
import { connectBus } from "../../../../actors/runtime/host/mod.ts";
import { ACTOR_KINDS } from "../../../../actors/mod.ts";
import { haveNatsServer } from "../../../_support/nats.ts";
import { runTroupe, startTroupe } from "../../../_support/cli.ts";
import { writeStatsOnlyConfig } from "../../../cli/_stats_only_config.ts";

const test = suite("NATS credentials");
const dir = mkdtempSync(join(tmpdir(), "troupe-nats-auth-"));

/** Starts nats-server with `config` (its authorization or TLS block) on a free port. */
async function serverWith(name: string, config: string): Promise<NatsServer> {
  const path = join(dir, `${name}.conf`);
  writeFileSync(path, config);
  return await NatsServer.start({ args: ["-c", path], storeDir: join(dir, `${name}-js`) });
}

/** A host connecting with the host config `nats` section: connects, or the error message. */
async function hostConnects(nats: Record<string, unknown>): Promise<true | string> {
  const config = parseHostConfig({ nats }, ACTOR_KINDS);
  try {
    const bus = await connectBus(config, () => {});
    await bus.close();
    return true;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * `troupe status` against `url`: connected (it then finds no lease bucket and no troupe up, exit
 * 1 with that reason) or refused; everything it printed, to grep for secrets.
 */
async function statusRun(args: string[], env: Record<string, string> = {}) {
  const r = await runTroupe(["status", "--data-dir", join(dir, "no-up"), ...args], { env });
  const out = r.stdout + r.stderr;
  return { connected: /no host shares partitions by lease/.test(out), out };
}

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

const cleanups: Array<() => Promise<void>> = [];
test.after(async () => {
  for (const c of cleanups) await c().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

test("splitNatsUrl() moves credentials out of URLs and redactNatsUrl() hides the password", () => {
  assert.equal(splitNatsUrl("nats://a:p%40ss@h:1,nats://tok@g:2,h3:3"), {
    url: "nats://h:1,nats://g:2,h3:3",
    auth: { user: "a", password: "p@ss", token: "tok" },
  });
  assert.is(redactNatsUrl("nats://a:secret@h:1,tok@g:2"), "nats://a:***@h:1,***@g:2");
});

test("user and password: from the config, the URL and the environment; never printed", async () => {
  const server = await serverWith(
    "userpass",
    'authorization { users: [ { user: "ops", password: "Pw-9f3kq-secret" } ] }\n',
  );
  cleanups.push(() => server.stop());
  const url = server.url;
  assert.is(await hostConnects({ url, user: "ops", password: "Pw-9f3kq-secret" }), true);
  const bad = await hostConnects({ url: url.replace("nats://", "nats://ops:Wrong-77x-secret@") });
  assert.type(bad, "string");
  assert.match(
    bad as string,
    /Cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+: .*Authorization/,
  );
  assert.not.match(bad as string, /Wrong-77x-secret/);

  const ok = await statusRun(["--nats", url, "--nats-user", "ops"], {
    TROUPE_NATS_PASSWORD: "Pw-9f3kq-secret",
  });
  assert.ok(ok.connected, ok.out);
  const inUrl = await statusRun(["--nats", url.replace("nats://", "nats://ops:Pw-9f3kq-secret@")]);
  assert.ok(inUrl.connected, inUrl.out);
  const refused = await statusRun([
    "--nats",
    url.replace("nats://", "nats://ops:Wrong-77x-secret@"),
  ]);
  assert.not.ok(refused.connected, refused.out);
  assert.match(refused.out, /Authorization Violation/);
  for (const out of [ok.out, inUrl.out, refused.out]) {
    assert.not.match(out, /Pw-9f3kq-secret|Wrong-77x-secret/);
  }
});

test("token: from the config and TROUPE_NATS_TOKEN; never printed", async () => {
  const server = await serverWith("token", 'authorization { token: "Tk-5d8w2-secret" }\n');
  cleanups.push(() => server.stop());
  assert.is(await hostConnects({ url: server.url, token: "Tk-5d8w2-secret" }), true);
  assert.type(await hostConnects({ url: server.url }), "string");
  const ok = await statusRun(["--nats", server.url], { TROUPE_NATS_TOKEN: "Tk-5d8w2-secret" });
  assert.ok(ok.connected, ok.out);
  const refused = await statusRun([
    "--nats",
    server.url.replace("nats://", "nats://Tk-bad-secret@"),
  ]);
  assert.not.ok(refused.connected, refused.out);
  for (const out of [ok.out, refused.out]) assert.not.match(out, /Tk-5d8w2-secret|Tk-bad-secret/);
});

/** A user nkey pair: its seed written to a file, its public key. */
function userKey(name: string): { seedFile: string; seed: string; pub: string } {
  const pair = nkeys.createUser();
  const seed = new TextDecoder().decode(pair.getSeed());
  return { seedFile: write(`${name}.nk`, `${seed}\n`), seed, pub: pair.getPublicKey() };
}

test("troupe run --threads 2: every thread connects with the config's password, never shown", async () => {
  const server = await serverWith(
    "threads",
    'authorization { users: [ { user: "host", password: "Th-4k2-secret" } ] }\n',
  );
  cleanups.push(() => server.stop());
  const url = server.url.replace("nats://", "nats://host:Th-4k2-secret@");
  const config = writeStatsOnlyConfig(mkdtempSync(join(dir, "threads-")), {
    hostId: "tt",
    nats: url,
  });
  const run = startTroupe([
    "run",
    "--config",
    config,
    "--threads",
    "2",
    "--data-dir",
    join(dir, "tt"),
  ]);
  try {
    await run.waitFor("troupe run: host tt running", 60_000);
    assert.match(run.output(), /on 2 threads on nats:\/\/127\.0\.0\.1:\d+,/);
    run.signal("SIGINT");
    assert.is(await run.exited, 0, run.output());
    assert.not.match(run.output(), /Th-4k2-secret/);
  } finally {
    run.signal("SIGKILL");
  }
  // The command line's URL over the file's, with a wrong password.
  const wrong = await runTroupe([
    "run",
    "--config",
    config,
    "--nats",
    url.replace("Th-4k2", "Bad-1"),
    "--threads",
    "2",
    "--data-dir",
    join(dir, "tt-wrong"),
  ]);
  assert.is(wrong.code, 1, wrong.stdout + wrong.stderr);
  assert.match(wrong.stdout + wrong.stderr, /Authorization Violation/);
  assert.not.match(wrong.stdout + wrong.stderr, /Bad-1-secret|Th-4k2-secret/);
});

test("nkey: a seed file from the config, --nats-nkey and TROUPE_NATS_NKEY", async () => {
  const user = userKey("user");
  const other = userKey("other");
  const server = await serverWith("nkey", `authorization { users: [ { nkey: ${user.pub} } ] }\n`);
  cleanups.push(() => server.stop());
  assert.is(await hostConnects({ url: server.url, nkey: user.seedFile }), true);
  assert.type(await hostConnects({ url: server.url, nkey: other.seedFile }), "string");
  const flag = await statusRun(["--nats", server.url, "--nats-nkey", user.seedFile]);
  assert.ok(flag.connected, flag.out);
  const env = await statusRun(["--nats", server.url], { TROUPE_NATS_NKEY: user.seedFile });
  assert.ok(env.connected, env.out);
  const refused = await statusRun(["--nats", server.url, "--nats-nkey", other.seedFile]);
  assert.not.ok(refused.connected, refused.out);
  const notSeed = await statusRun(["--nats", server.url, "--nats-nkey", write("x.nk", "hello\n")]);
  assert.match(notSeed.out, /NATS nkey file .*x\.nk does not hold an nkey seed/);
  for (const out of [flag.out, env.out, refused.out]) {
    assert.not.ok(out.includes(user.seed) || out.includes(other.seed), out);
  }
});

/**
 * A creds file as nsc writes it: a user JWT (issued and signed by an account key the test makes)
 * and the user's seed. Without an operator the server does not check the JWT: it checks the
 * nonce signed with the seed against the user's nkey, which is what this proves.
 */
function credsFile(name: string, user: { seed: string; pub: string }): string {
  const account = nkeys.createAccount();
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const head = b64({ typ: "JWT", alg: "ed25519-nkey" });
  const body = b64({
    jti: "TESTJTI",
    iat: 1_700_000_000,
    iss: account.getPublicKey(),
    sub: user.pub,
    name,
    nats: { type: "user", version: 2, pub: {}, sub: {}, subs: -1, data: -1, payload: -1 },
  });
  const sig = Buffer.from(account.sign(new TextEncoder().encode(`${head}.${body}`)))
    .toString("base64url");
  return write(
    `${name}.creds`,
    `-----BEGIN NATS USER JWT-----\n${head}.${body}.${sig}\n------END NATS USER JWT------\n\n` +
      `-----BEGIN USER NKEY SEED-----\n${user.seed}\n------END USER NKEY SEED------\n`,
  );
}

test("creds file: --nats-creds, TROUPE_NATS_CREDS and the config sign with its seed", async () => {
  const user = userKey("creds-user");
  const stranger = userKey("creds-stranger");
  const server = await serverWith("creds", `authorization { users: [ { nkey: ${user.pub} } ] }\n`);
  cleanups.push(() => server.stop());
  const good = credsFile("good", user);
  const bad = credsFile("bad", stranger);
  assert.is(await hostConnects({ url: server.url, creds: good }), true);
  assert.type(await hostConnects({ url: server.url, creds: bad }), "string");
  const flag = await statusRun(["--nats", server.url, "--nats-creds", good]);
  assert.ok(flag.connected, flag.out);
  const env = await statusRun(["--nats", server.url], { TROUPE_NATS_CREDS: good });
  assert.ok(env.connected, env.out);
  const refused = await statusRun(["--nats", server.url, "--nats-creds", bad]);
  assert.not.ok(refused.connected, refused.out);
  const missing = await statusRun(["--nats", server.url, "--nats-creds", join(dir, "none.creds")]);
  assert.match(missing.out, /Cannot read the NATS creds file .*none\.creds: ENOENT/);
  for (const out of [flag.out, env.out, refused.out]) assert.not.ok(out.includes(user.seed), out);
});

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
function makeCertificates() {
  const p = (f: string) => join(dir, f);
  const ssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  ssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=troupe CA",
    "-keyout",
    p("ca.key"),
    "-out",
    p("ca.pem"),
  );
  write("san.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  for (const who of ["server", "client"]) {
    ssl(
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      `/CN=troupe ${who}`,
      "-keyout",
      p(`${who}.key`),
      "-out",
      p(`${who}.csr`),
    );
    ssl(
      "x509",
      "-req",
      "-in",
      p(`${who}.csr`),
      "-CA",
      p("ca.pem"),
      "-CAkey",
      p("ca.key"),
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      p("san.ext"),
      "-out",
      p(`${who}.pem`),
    );
  }
  return {
    ca: p("ca.pem"),
    serverCert: p("server.pem"),
    serverKey: p("server.key"),
    cert: p("client.pem"),
    key: p("client.key"),
  };
}

test("TLS with a client certificate the server verifies: config, options and environment", async () => {
  const c = makeCertificates();
  const server = await serverWith(
    "tls",
    `tls { cert_file: "${c.serverCert}", key_file: "${c.serverKey}", ca_file: "${c.ca}", ` +
      "verify: true }\n",
  );
  cleanups.push(() => server.stop());
  const url = server.url.replace("nats://", "tls://");
  assert.is(await hostConnects({ url, ca: c.ca, cert: c.cert, key: c.key }), true);
  // Trusting the server is not enough: it asks for the client's certificate.
  assert.type(await hostConnects({ url, ca: c.ca }), "string");
  const flags = await statusRun([
    "--nats",
    url,
    "--nats-ca",
    c.ca,
    "--nats-cert",
    c.cert,
    "--nats-key",
    c.key,
  ]);
  assert.ok(flags.connected, flags.out);
  const env = await statusRun(["--nats", url], {
    TROUPE_NATS_CA: c.ca,
    TROUPE_NATS_CERT: c.cert,
    TROUPE_NATS_KEY: c.key,
  });
  assert.ok(env.connected, env.out);
  const noCert = await statusRun(["--nats", url, "--nats-ca", c.ca]);
  assert.not.ok(noCert.connected, noCert.out);
  const half = await statusRun(["--nats", url, "--nats-ca", c.ca, "--nats-cert", c.cert]);
  assert.match(half.out, /NATS client certificate .*client\.pem is given without its key/);
});

if (haveNatsServer("NATS credentials")) test.run();

/**
 * The role → permissions table on a real nats-server configured from it: incident control is
 * taken from the operator and the collaboration bridge, refused from a viewer, the receiver's
 * feed rights do not reach control of actors, an unauthenticated client is not let in, and
 * docs/security.md shows the very table the server runs with.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { nkeys } from "@nats-io/transport-node";
import { NatsServer } from "../../../../actors/runtime/transport/nats_server.ts";
import {
  type NatsAuth,
  natsAuthorizationConfig,
  NatsBus,
  type NatsRole,
  natsRolesMarkdown,
} from "../../../../actors/runtime/mod.ts";
import {
  ctlSubject,
  feedSubject,
  INCIDENT_CONTROL_SUBJECT,
  INCIDENT_STALE_SUBJECT,
} from "../../../../protocol/mod.ts";
import { haveNatsServer } from "../../../_support/nats.ts";
import { ROOT } from "../../../_support/cli.ts";

const test = suite("NATS roles");
const dir = mkdtempSync(join(tmpdir(), "troupe-nats-roles-"));
let server: NatsServer;
const auth = {} as Record<NatsRole | "second-operator", NatsAuth>;
const buses: NatsBus[] = [];

test.before(async () => {
  // nkeys for the hosts' and the receiver's users, passwords for the others: both kinds of user.
  const users = [];
  for (const role of ["host", "receiver"] as const) {
    const pair = nkeys.createUser();
    const seedFile = join(dir, `${role}.nk`);
    writeFileSync(seedFile, new TextDecoder().decode(pair.getSeed()), { mode: 0o600 });
    auth[role] = { nkey: seedFile };
    users.push({ role, credential: { nkey: pair.getPublicKey() } });
  }
  for (const role of ["bridge", "operator", "viewer"] as const) {
    auth[role] = { user: role, password: `pw-${role}-${Math.random().toString(36).slice(2)}` };
    users.push({ role, credential: { user: role, password: auth[role].password! } });
  }
  const conf = join(dir, "roles.conf");
  writeFileSync(conf, natsAuthorizationConfig(users));
  server = await NatsServer.start({ args: ["-c", conf], storeDir: join(dir, "js") });
});

test.after(async () => {
  for (const bus of buses) await bus.close().catch(() => {});
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** What the server refused each connection, as its bus reports it: "operation subject". */
const refusals: Record<string, string[]> = {};

async function as(role: NatsRole): Promise<NatsBus> {
  const said = refusals[role] ??= [];
  const bus = await NatsBus.connect(server.url, {
    name: `test-${role}`,
    auth: auth[role],
    onPermissionDenied: (operation, subject) => said.push(`${operation} ${subject}`),
  });
  buses.push(bus);
  return bus;
}

/** What `subscriber` receives on `subject` when `publisher` publishes there, after a flush. */
async function delivered(publisher: NatsBus, subscriber: NatsBus, subject: string) {
  const got: string[] = [];
  const sub = subscriber.subscribe(subject, (m) => got.push(new TextDecoder().decode(m.data)));
  await subscriber.flush();
  publisher.publish(subject, new TextEncoder().encode("probe"));
  await publisher.flush().catch(() => {});
  await new Promise((r) => setTimeout(r, 300));
  sub.unsubscribe();
  return got;
}

test("incident control: the operator and the bridge are answered, a viewer is refused", async () => {
  const host = await as("host");
  // The host answers control, as the incident stage does.
  host.subscribe(INCIDENT_CONTROL_SUBJECT, (m) => {
    if (m.reply) host.publish(m.reply, new TextEncoder().encode("applied"));
  });
  await host.flush();
  for (const role of ["operator", "bridge"] as const) {
    const bus = await as(role);
    const answer = await bus.request(INCIDENT_CONTROL_SUBJECT, new Uint8Array([1]), {
      timeout: 2000,
    });
    assert.is(new TextDecoder().decode(answer.data), "applied", role);
  }
  const viewer = await as("viewer");
  const refused = await viewer.request(INCIDENT_CONTROL_SUBJECT, new Uint8Array([1]), {
    timeout: 700,
  }).then(() => "answered", (err) => (err as Error).message);
  assert.is.not(refused, "answered");
  assert.equal(await delivered(viewer, host, INCIDENT_CONTROL_SUBJECT), []);
  // The server says why: it refused the viewer's publish; the viewer's bus says so too, once.
  assert.match(
    server.log,
    /Publish Violation - User "viewer", Subject "troupe\.req\.incidents\.control"/,
  );
  assert.equal(refusals.viewer, [`publish ${INCIDENT_CONTROL_SUBJECT}`]);
  // Nor does a host send control: it only answers it.
  const other = await as("operator");
  assert.equal(await delivered(host, other, INCIDENT_CONTROL_SUBJECT), []);
});

test("a client without credentials is not let in", async () => {
  const err = await NatsBus.connect(server.url, { name: "rogue" }).then(
    (bus) => (buses.push(bus), "connected"),
    (e) => (e as Error).message,
  );
  assert.match(err, /Authorization Violation/);
});

test("the receiver publishes feeds but not control of actors", async () => {
  const receiver = await as("receiver");
  const host = await as("host");
  assert.equal(await delivered(receiver, host, feedSubject("metrics", "cpu")), ["probe"]);
  assert.equal(await delivered(receiver, host, ctlSubject("anomaly")), []);
  const operator = await as("operator");
  assert.equal(await delivered(operator, host, ctlSubject("anomaly")), ["probe"]);
  // Nor may it listen to control of actors.
  assert.equal(await delivered(operator, receiver, ctlSubject("anomaly")), []);
  assert.ok(
    refusals.receiver!.includes(`subscription ${ctlSubject("anomaly")}`),
    String(refusals.receiver),
  );
});

test("the receiver tells the stage of stale channels but cannot ack or silence", async () => {
  const receiver = await as("receiver");
  const host = await as("host");
  assert.equal(await delivered(receiver, host, INCIDENT_STALE_SUBJECT), ["probe"]);
  assert.equal(await delivered(receiver, host, INCIDENT_CONTROL_SUBJECT), []);
  assert.ok(
    refusals.receiver!.includes(`publish ${INCIDENT_CONTROL_SUBJECT}`),
    String(refusals.receiver),
  );
});

test("docs/security.md shows the table the server runs with", () => {
  // Compared as cells, so that a formatter's padding of the page's table does not matter.
  const cells = (text: string) => text.replace(/ +/g, " ").replace(/-{3,}/g, "---");
  const page = cells(readFileSync(join(ROOT, "docs/security.md"), "utf8"));
  assert.ok(
    page.includes(cells(natsRolesMarkdown())),
    "docs/security.md's table differs from natsRolesMarkdown(): paste its output into the page",
  );
});

if (haveNatsServer("NATS roles")) test.run();

/**
 * The host config's HTTP settings: the address the port listens on (127.0.0.1 unless set) and its
 * credentials (a bearer token or basic auth, not both); each mistake is refused naming the field,
 * and never showing the secret.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ACTOR_KINDS } from "../../../../actors/mod.ts";
import { parseHostConfig } from "../../../../actors/runtime/mod.ts";
import { ConfigError } from "../../../../protocol/mod.ts";

const test = suite("host config http");

const parse = (raw: Record<string, unknown>) => parseHostConfig(raw, ACTOR_KINDS);

test("the HTTP port listens on 127.0.0.1 and asks nothing by default; http_host, http_bearer_token and http_basic_auth set them", () => {
  const d = parse({});
  assert.is(d.http_host, "127.0.0.1");
  assert.equal(d.http_auth, {});
  const team = parse({
    http_port: 9464,
    http_host: "0.0.0.0",
    http_bearer_token: "abc.DEF-1_2~+/=",
  });
  assert.is(team.http_host, "0.0.0.0");
  assert.equal(team.http_auth, { bearerToken: "abc.DEF-1_2~+/=" });
  const basic = parse({ http_host: "::", http_basic_auth: { username: "ops", password: "p w" } });
  assert.is(basic.http_host, "::");
  assert.equal(basic.http_auth, { basicAuth: { username: "ops", password: "p w" } });
});

test("a bad address, a bad token, basic auth without a password, or both credentials are refused naming the field, not the secret", () => {
  const cases: Array<[Record<string, unknown>, string, string]> = [
    [{ http_host: "127.0.0.1:9464" }, "http_host", 'got "127.0.0.1:9464"'],
    [{ http_host: "" }, "http_host", 'got ""'],
    [{ http_bearer_token: "has space secret" }, "http_bearer_token", "got 16 characters"],
    [{ http_bearer_token: "" }, "http_bearer_token", "got an empty string"],
    [{ http_bearer_token: 42 }, "http_bearer_token", "got number"],
    [{ http_basic_auth: { username: "ops" } }, "http_basic_auth", "both non-empty"],
    [
      { http_basic_auth: { username: "o:ps", password: "x" } },
      "http_basic_auth",
      "without a colon",
    ],
    [
      { http_bearer_token: "tok", http_basic_auth: { username: "a", password: "secretpw" } },
      "http_basic_auth",
      "cannot both be set",
    ],
  ];
  for (const [raw, field, says] of cases) {
    try {
      parse(raw);
      assert.unreachable(`${JSON.stringify(raw)} was taken`);
    } catch (err) {
      assert.instance(err, ConfigError);
      assert.is((err as ConfigError).field, field);
      assert.match((err as Error).message, says);
      assert.not.match((err as Error).message, "secret");
    }
  }
});

test.run();

import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  asksCredentials,
  authorizationHeader,
  type HttpCredentials,
  refuseAuthorization,
  wwwAuthenticate,
} from "../../protocol/mod.ts";

const test = suite("http credentials");

const BEARER: HttpCredentials = { bearerToken: "abc-DEF_123" };
const BASIC: HttpCredentials = { basicAuth: { username: "ops", password: "pä:ss" } };

test("the header a client makes is the one the server takes, for a token and for basic auth (UTF-8)", () => {
  assert.is(authorizationHeader(BEARER), "Bearer abc-DEF_123");
  const basic = authorizationHeader(BASIC)!;
  assert.ok(basic.startsWith("Basic "));
  const decoded = new TextDecoder().decode(
    Uint8Array.from(atob(basic.slice(6)), (c) => c.charCodeAt(0)),
  );
  assert.is(decoded, "ops:pä:ss");
  assert.is(refuseAuthorization(authorizationHeader(BEARER), BEARER), undefined);
  assert.is(refuseAuthorization(basic, BASIC), undefined);
});

test("nothing asked: any header passes and no header is made", () => {
  assert.is(asksCredentials({}), false);
  assert.is(asksCredentials(undefined), false);
  assert.is(authorizationHeader({}), undefined);
  assert.is(refuseAuthorization(undefined, {}), undefined);
  assert.is(refuseAuthorization("Bearer x", undefined), undefined);
  assert.is(asksCredentials(BEARER), true);
});

test("a missing, wrong-scheme, wrong or longer/shorter credential is refused, saying which, never the expected value", () => {
  const cases: Array<[string | undefined, HttpCredentials, string]> = [
    [undefined, BEARER, "missing; this endpoint takes a bearer token"],
    ["", BASIC, "missing; this endpoint takes basic auth"],
    ["Basic b3BzOng=", BEARER, "is not a bearer token"],
    ["Bearer abc-DEF_12", BEARER, "bearer token is wrong"],
    ["Bearer abc-DEF_1234", BEARER, "bearer token is wrong"],
    ["Bearer ABC-DEF_123", BEARER, "bearer token is wrong"],
    [`Basic ${btoa("ops:pass")}`, BASIC, "basic auth credentials are wrong"],
    ["Bearer abc-DEF_123", BASIC, "is not basic auth"],
  ];
  for (const [given, credentials, says] of cases) {
    const why = refuseAuthorization(given, credentials);
    assert.ok(why?.startsWith("Unauthorized: "), `${given}: ${why}`);
    assert.match(why!, says);
    assert.not.match(why!, "abc-DEF_123");
    assert.not.match(why!, "pä:ss");
  }
});

test("WWW-Authenticate names the scheme asked and the realm", () => {
  assert.is(wwwAuthenticate(BEARER, "troupe host"), 'Bearer realm="troupe host"');
  assert.is(wwwAuthenticate(BASIC, 'a "quoted" realm'), 'Basic realm="a quoted realm"');
});

test.run();

/**
 * The credentials troupe's HTTP endpoints take (the host's API and the metrics receiver): a
 * bearer token or a user and password (basic auth), as the `Authorization` header carries them
 * (RFC 6750, RFC 7617). Written once for both ends: a server checks a header against its
 * credentials, and a client (`troupe scan`, the dashboard's proxy) makes the header it sends.
 */
import { ConfigError } from "./config_error.ts";

/** A bearer token, or a user and password; neither: the endpoint takes no credential. */
export interface HttpCredentials {
  bearerToken?: string | undefined;
  basicAuth?: { username: string; password: string } | undefined;
}

/** Whether `credentials` ask for anything. */
export function asksCredentials(credentials: HttpCredentials | undefined): boolean {
  return credentials?.bearerToken !== undefined || credentials?.basicAuth !== undefined;
}

/** The `Authorization` header's value for `credentials`, or undefined for none. */
export function authorizationHeader(credentials: HttpCredentials | undefined): string | undefined {
  if (credentials?.bearerToken !== undefined) return `Bearer ${credentials.bearerToken}`;
  const basic = credentials?.basicAuth;
  if (basic === undefined) return undefined;
  return `Basic ${base64Utf8(`${basic.username}:${basic.password}`)}`;
}

/**
 * Why a request whose `Authorization` header is `given` is refused, or undefined when it may
 * pass (or nothing is asked). The header is compared whole in time that does not depend on where
 * it first differs, so a client cannot find the token a byte at a time by timing refusals. The
 * reason names what is missing or wrong, never the expected value.
 */
export function refuseAuthorization(
  given: string | undefined,
  credentials: HttpCredentials | undefined,
): string | undefined {
  const expected = authorizationHeader(credentials);
  if (expected === undefined) return undefined;
  const scheme = credentials?.bearerToken !== undefined ? "a bearer token" : "basic auth";
  if (given === undefined || given === "") {
    return `Unauthorized: the Authorization header is missing; this endpoint takes ${scheme}`;
  }
  if (sameText(given, expected)) return undefined;
  const bearer = credentials?.bearerToken !== undefined;
  const prefix = bearer ? "bearer " : "basic ";
  if (!given.toLowerCase().startsWith(prefix)) {
    return `Unauthorized: the Authorization header is not ${scheme}; this endpoint takes ${scheme}`;
  }
  return bearer
    ? "Unauthorized: the Authorization header's bearer token is wrong"
    : "Unauthorized: the Authorization header's basic auth credentials are wrong";
}

/**
 * The `WWW-Authenticate` header a 401 carries for `credentials` (RFC 7235: a 401 says which
 * scheme it takes), in `realm`.
 */
export function wwwAuthenticate(credentials: HttpCredentials | undefined, realm: string): string {
  const scheme = credentials?.basicAuth !== undefined && credentials.bearerToken === undefined
    ? "Basic"
    : "Bearer";
  return `${scheme} realm="${realm.replace(/["\\]/g, "")}"`;
}

/**
 * Whether `given` equals `expected`, looking at every byte of `expected` whatever `given` holds:
 * the time taken tells the length of `expected` at most, never how much of it `given` matched.
 */
function sameText(given: string, expected: string): boolean {
  const a = new TextEncoder().encode(given);
  const b = new TextEncoder().encode(expected);
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i % Math.max(1, a.length)] ?? 0) ^ b[i]!;
  return diff === 0;
}

/** Base64 of `text`'s UTF-8 bytes (btoa takes Latin-1 only). */
function base64Utf8(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * Reads the credentials an endpoint's settings give: the bearer token at `keys.token` or the user
 * and password at `keys.basic` of `obj` (not both). A mistake names the field and what it holds,
 * never the secret itself.
 */
export function readHttpCredentials(
  obj: Record<string, unknown>,
  keys: { token: string; basic: string },
  path: string,
): HttpCredentials {
  const at = (k: string) => (path ? `${path}.${k}` : k);
  const token = obj[keys.token];
  const basic = obj[keys.basic];
  if (token !== undefined && basic !== undefined) {
    throw new ConfigError(
      at(keys.basic),
      `Fields "${at(keys.token)}" and "${at(keys.basic)}" cannot both be set: an endpoint ` +
        "takes a bearer token or basic auth",
    );
  }
  if (token !== undefined) return { bearerToken: checkToken(token, at(keys.token)) };
  if (basic === undefined) return {};
  const b = basic as Record<string, unknown> | null;
  if (
    b === null || typeof b !== "object" || Array.isArray(b) || typeof b.username !== "string" ||
    typeof b.password !== "string" || b.username === "" || b.username.includes(":") ||
    b.password === ""
  ) {
    throw new ConfigError(
      at(keys.basic),
      `Field "${at(keys.basic)}" must be { "username": "...", "password": "..." } (a username ` +
        "without a colon, both non-empty)",
    );
  }
  return { basicAuth: { username: b.username, password: b.password } };
}

/**
 * Checks a bearer token as RFC 6750's b64token allows it (letters, digits and `-._~+/`, then
 * `=`), at `where`; a mistake says what is wrong without showing the token.
 */
export function checkToken(token: unknown, where: string): string {
  if (typeof token !== "string" || !/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) {
    const what = typeof token !== "string"
      ? `got ${token === null ? "null" : typeof token}`
      : token === ""
      ? "got an empty string"
      : `got ${token.length} characters with others among them`;
    throw new ConfigError(
      where,
      `${where} must be a bearer token of letters, digits and - . _ ~ + / (then =), ${what}`,
    );
  }
  return token;
}

/**
 * How troupe proves who it is to NATS: the credentials nats.js takes (user and password, token,
 * nkey seed, a `.creds` file, TLS with a CA and a client certificate), one type for every
 * connection a process makes (hosts, their threads, the receiver, the collaboration bridge, the
 * commands), gathered from a config file, the environment and the command line, and turned into
 * nats.js's options in one place. Secrets never leave here in a message: a URL is shown without
 * its password (`nats://a:***@host`), a token never, a file only by its path.
 */
import { readFileSync } from "node:fs";
import {
  credsAuthenticator,
  nkeyAuthenticator,
  nkeys,
  type NodeConnectionOptions,
} from "@nats-io/transport-node";

/**
 * The credentials of a NATS connection. Files are named by path (read when connecting, so a
 * secret stays in its file and out of argv and configs); `password` and `token` are the values.
 */
export interface NatsAuth {
  user?: string;
  password?: string;
  token?: string;
  /** A file holding a user nkey seed (`SU...`). */
  nkey?: string;
  /** A `.creds` file (a user JWT and its nkey seed, as nsc writes it). */
  creds?: string;
  /** A PEM file of the CA that signed the server's certificate. */
  ca?: string;
  /** A PEM client certificate (with `key`), for a server that verifies clients. */
  cert?: string;
  /** The PEM private key of `cert`. */
  key?: string;
}

/** The fields of NatsAuth, in the order they are described. */
export const NATS_AUTH_FIELDS = [
  "user",
  "password",
  "token",
  "nkey",
  "creds",
  "ca",
  "cert",
  "key",
] as const satisfies ReadonlyArray<keyof NatsAuth>;

/** The environment variable of each field: `TROUPE_NATS_CREDS` and so on. */
export const NATS_AUTH_ENV: Readonly<Record<keyof NatsAuth, string>> = {
  user: "TROUPE_NATS_USER",
  password: "TROUPE_NATS_PASSWORD",
  token: "TROUPE_NATS_TOKEN",
  nkey: "TROUPE_NATS_NKEY",
  creds: "TROUPE_NATS_CREDS",
  ca: "TROUPE_NATS_CA",
  cert: "TROUPE_NATS_CERT",
  key: "TROUPE_NATS_KEY",
};

/** Thrown for credentials that cannot be used; the message names the field and file, no secret. */
export class NatsAuthError extends Error {
  override name = "NatsAuthError";
}

/** The credentials the environment gives (empty variables are absent). */
export function natsAuthFromEnv(env: Record<string, string | undefined>): NatsAuth {
  const auth: NatsAuth = {};
  for (const field of NATS_AUTH_FIELDS) {
    const value = env[NATS_AUTH_ENV[field]];
    if (value !== undefined && value !== "") auth[field] = value;
  }
  return auth;
}

/** Whether `auth` says anything. */
export function hasNatsAuth(auth: NatsAuth | undefined): boolean {
  return auth !== undefined && NATS_AUTH_FIELDS.some((f) => auth[f] !== undefined);
}

/**
 * The credentials of `layers` merged field by field, the first that sets a field winning: pass
 * the command line first, then the environment, then the config file.
 */
export function mergeNatsAuth(...layers: Array<NatsAuth | undefined>): NatsAuth {
  const out: NatsAuth = {};
  for (const field of NATS_AUTH_FIELDS) {
    for (const layer of layers) {
      const value = layer?.[field];
      if (value !== undefined) {
        out[field] = value;
        break;
      }
    }
  }
  return out;
}

/**
 * A server list (`nats://user:pass@host:4222,host2:4222`) without the credentials written into
 * its URLs, and those credentials: `user:pass@` is a user and password, a lone `secret@` a token.
 * The URLs are then safe to print and the credentials go where every other kind goes.
 */
export function splitNatsUrl(servers: string): { url: string; auth: NatsAuth } {
  const auth: NatsAuth = {};
  const url = servers.split(",").map((entry) => {
    const m = /^(\s*(?:[a-z]+:\/\/)?)([^@/]*)@(.*)$/i.exec(entry);
    if (!m) return entry;
    const [, scheme = "", userinfo = "", rest = ""] = m;
    const colon = userinfo.indexOf(":");
    if (colon < 0) {
      if (userinfo !== "") auth.token ??= decodeURIComponent(userinfo);
    } else {
      auth.user ??= decodeURIComponent(userinfo.slice(0, colon));
      auth.password ??= decodeURIComponent(userinfo.slice(colon + 1));
    }
    return `${scheme}${rest}`;
  }).join(",");
  return { url, auth };
}

/** `servers` as it may be printed: a password or token in a URL shown as `***`. */
export function redactNatsUrl(servers: string): string {
  return servers.split(",").map((entry) =>
    entry.replace(/^(\s*(?:[a-z]+:\/\/)?)([^@/]*)@/i, (_, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(":");
      return colon < 0 ? `${scheme}***@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
    })
  ).join(",");
}

/** What `auth` is, for a log line: the kinds and the files, never a secret. */
export function describeNatsAuth(auth: NatsAuth): string {
  const parts: string[] = [];
  if (auth.user !== undefined) parts.push(`user "${auth.user}"`);
  if (auth.token !== undefined) parts.push("a token");
  if (auth.nkey !== undefined) parts.push(`nkey ${auth.nkey}`);
  if (auth.creds !== undefined) parts.push(`creds ${auth.creds}`);
  if (auth.cert !== undefined) parts.push(`client certificate ${auth.cert}`);
  if (auth.ca !== undefined) parts.push(`CA ${auth.ca}`);
  return parts.length === 0 ? "no credentials" : parts.join(", ");
}

/**
 * nats.js's options for `auth`, its files read and checked now, so that a missing or malformed
 * one is an error naming its field and path rather than a handshake that fails later.
 */
export function natsAuthOptions(auth: NatsAuth): Partial<NodeConnectionOptions> {
  const out: Partial<NodeConnectionOptions> = {};
  if (auth.password !== undefined && auth.user === undefined) {
    throw new NatsAuthError("NATS credentials have a password but no user");
  }
  if (auth.user !== undefined) {
    out.user = auth.user;
    if (auth.password !== undefined) out.pass = auth.password;
  }
  if (auth.token !== undefined) out.token = auth.token;
  if (auth.nkey !== undefined && auth.creds !== undefined) {
    throw new NatsAuthError(
      `NATS credentials name both an nkey seed (${auth.nkey}) and a creds file (${auth.creds}): ` +
        "a creds file holds its own seed, give one of them",
    );
  }
  if (auth.nkey !== undefined) {
    const seed = readSeed(auth.nkey);
    out.authenticator = nkeyAuthenticator(seed);
  }
  if (auth.creds !== undefined) {
    const creds = readAuthFile(auth.creds, "creds");
    if (!/-+BEGIN NATS USER JWT-+/.test(new TextDecoder().decode(creds))) {
      throw new NatsAuthError(
        `NATS creds file ${auth.creds} holds no "BEGIN NATS USER JWT" block (is it a .creds file?)`,
      );
    }
    out.authenticator = credsAuthenticator(creds);
  }
  if ((auth.cert === undefined) !== (auth.key === undefined)) {
    throw new NatsAuthError(
      auth.cert === undefined
        ? `NATS client key ${auth.key} is given without its certificate (cert)`
        : `NATS client certificate ${auth.cert} is given without its key (key)`,
    );
  }
  if (auth.ca !== undefined || auth.cert !== undefined) {
    const tls: NonNullable<NodeConnectionOptions["tls"]> = {};
    if (auth.ca !== undefined) tls.ca = pemFile(auth.ca, "ca", "CERTIFICATE");
    if (auth.cert !== undefined) tls.cert = pemFile(auth.cert, "cert", "CERTIFICATE");
    if (auth.key !== undefined) tls.key = pemFile(auth.key, "key", "PRIVATE KEY");
    out.tls = tls;
  }
  return out;
}

/** The bytes of the file `path` given as `field`; an error naming both when it cannot be read. */
function readAuthFile(path: string, field: keyof NatsAuth): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as { code?: string }).code ?? (err as Error).message;
    throw new NatsAuthError(`Cannot read the NATS ${field} file ${path}: ${code}`, { cause: err });
  }
}

/** The user seed in the file `path`, checked to be one (without saying what it holds). */
function readSeed(path: string): Uint8Array {
  const seed = new TextDecoder().decode(readAuthFile(path, "nkey")).trim();
  try {
    nkeys.fromSeed(new TextEncoder().encode(seed));
  } catch {
    throw new NatsAuthError(
      `NATS nkey file ${path} does not hold an nkey seed (a line starting with "SU")`,
    );
  }
  return new TextEncoder().encode(seed);
}

/** The PEM text of `path`, checked to hold a `kind` block. */
function pemFile(path: string, field: keyof NatsAuth, kind: string): string {
  const text = new TextDecoder().decode(readAuthFile(path, field));
  if (!text.includes(kind)) {
    throw new NatsAuthError(`NATS ${field} file ${path} holds no PEM "${kind}" block`);
  }
  return text;
}

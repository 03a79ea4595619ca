/**
 * The HTTP settings `troupe run` takes beyond its config file: the address the host's HTTP port
 * listens on (`--http-host`) and the bearer tokens from the environment (`TROUPE_HTTP_TOKEN` for
 * the host's port, `TROUPE_REMOTE_WRITE_TOKEN` for the metrics receiver), so a secret need not sit
 * in a file or on a command line that `ps` shows. The command line and the environment win over
 * the file.
 */
import { checkHttpHost, type HostConfig } from "../actors/runtime/mod.ts";
import { checkToken } from "../protocol/mod.ts";
import { UsageError } from "./args.ts";

/** The environment variable with the bearer token of a host's HTTP port (server and clients). */
export const HTTP_TOKEN_ENV = "TROUPE_HTTP_TOKEN";

/** The environment variable with the bearer token of the metrics receiver. */
export const REMOTE_WRITE_TOKEN_ENV = "TROUPE_REMOTE_WRITE_TOKEN";

/** A bearer token from `env[name]`, checked; undefined when unset or empty. */
export function envToken(
  env: Record<string, string | undefined>,
  name: string,
): string | undefined {
  const token = env[name];
  if (token === undefined || token === "") return undefined;
  try {
    return checkToken(token, name);
  } catch (err) {
    throw new UsageError(`Environment variable ${(err as Error).message}`);
  }
}

/** Applies `--http-host` and the tokens of `env` to `config`. */
export function applyHttpSettings(
  config: HostConfig,
  options: { host: string | undefined; env: Record<string, string | undefined> },
): void {
  if (options.host !== undefined) {
    try {
      config.http_host = checkHttpHost(options.host, "--http-host");
    } catch (err) {
      throw new UsageError(
        (err as Error).message.replace('Field "--http-host"', "Option --http-host"),
      );
    }
  }
  const token = envToken(options.env, HTTP_TOKEN_ENV);
  if (token !== undefined) config.http_auth = { bearerToken: token };
  const receiverToken = envToken(options.env, REMOTE_WRITE_TOKEN_ENV);
  if (receiverToken !== undefined && config.remote_write !== undefined) {
    const { basic_auth: _, ...rest } = config.remote_write;
    config.remote_write = { ...rest, bearer_token: receiverToken };
  }
}

/** Whether `host` is a loopback address, which only this machine reaches. */
function isLoopback(host: string): boolean {
  return /^127\./.test(host) || host === "::1" || host === "[::1]" || host === "localhost";
}

/**
 * The warning for a host's HTTP port that listens beyond this machine and asks no credential
 * (anyone who reaches it may start scans and read the metrics), or undefined.
 */
export function openHttpWarning(config: HostConfig): string | undefined {
  if (config.http_port === undefined || isLoopback(config.http_host)) return undefined;
  if (config.http_auth.bearerToken !== undefined || config.http_auth.basicAuth !== undefined) {
    return undefined;
  }
  return `the HTTP port listens on ${config.http_host} and asks no credential: whoever reaches ` +
    `it may start scans and read /metrics; set http_bearer_token in the config file or ` +
    `${HTTP_TOKEN_ENV}`;
}

/** The base URL of a host's HTTP port as the command prints it. */
export function httpBaseUrl(config: HostConfig, port: number): string {
  const host = config.http_host.includes(":") && !config.http_host.startsWith("[")
    ? `[${config.http_host}]`
    : config.http_host;
  return `http://${host}:${port}`;
}

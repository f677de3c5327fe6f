// The host guard: test databases live on this machine. A database host must be loopback or a
// unix socket unless CONCURRENT_TEST_CONFIG["allowed_hosts"] lists it; a refused host is never
// connected to (neither the engine nor Django gets that far).
import net from "node:net";
import { SecurityException } from "../core/errors.ts";
import { shown } from "./identifiers.ts";
import type { DatabaseSettings, ProjectSettings } from "../protocol/messages.ts";

export interface EffectiveHost {
  host: string;
  /** Where the host came from, for the refusal message. */
  source: string;
}

/**
 * The hosts a connection for this alias may go to. An empty HOST means the client library's
 * default: libpq reads PGHOST (a unix socket when unset), MySQL clients MYSQL_HOST (localhost).
 * libpq's PGHOSTADDR overrides name lookup, so it is checked whenever it is set.
 */
export function effectiveHosts(alias: string, db: DatabaseSettings, env: NodeJS.ProcessEnv): EffectiveHost[] {
  const where = `DATABASES["${alias}"]`;
  const configured = db.host === null || db.host === undefined ? "" : String(db.host);
  const hosts: EffectiveHost[] = [];
  if (db.vendor === "postgresql") {
    // libpq accepts a comma-separated list of hosts and tries each in turn.
    if (configured !== "") {
      for (const h of configured.split(",")) hosts.push({ host: h.trim(), source: `${where} HOST` });
    } else if (env.PGHOST) {
      for (const h of env.PGHOST.split(","))
        hosts.push({
          host: h.trim(),
          source: `PGHOST (used because ${where} HOST is empty)`,
        });
    }
    if (env.PGHOSTADDR) {
      for (const h of env.PGHOSTADDR.split(","))
        hosts.push({ host: h.trim(), source: `PGHOSTADDR (used by ${where})` });
    }
  } else if (db.vendor === "mysql") {
    if (configured !== "") hosts.push({ host: configured, source: `${where} HOST` });
    else if (env.MYSQL_HOST)
      hosts.push({
        host: env.MYSQL_HOST,
        source: `MYSQL_HOST (used because ${where} HOST is empty)`,
      });
  } else if (configured !== "") {
    hosts.push({ host: configured, source: `${where} HOST` });
  }
  return hosts;
}

/** Loopback addresses, "localhost" and unix socket paths. */
export function isLocalHost(host: string): boolean {
  if (host === "" || host.startsWith("/")) return true;
  const lower = host.toLowerCase();
  if (lower === "localhost") return true;
  if (net.isIPv4(lower)) return lower.startsWith("127.");
  const bare = lower.startsWith("[") && lower.endsWith("]") ? lower.slice(1, -1) : lower;
  if (net.isIPv6(bare)) {
    // The URL parser canonicalizes IPv6 (::0:1, 0:0:0:0:0:0:0:1, ::ffff:127.0.0.1 ...).
    const canonical = new URL(`http://[${bare}]/`).hostname;
    return canonical === "[::1]" || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical);
  }
  return false;
}

function isAllowed(host: string, allowed: readonly string[]): boolean {
  const lower = host.toLowerCase();
  return allowed.some((entry) => entry.trim().toLowerCase() === lower);
}

/** Refuses the first database host that is neither local nor explicitly allowed. */
export function checkHosts(settings: ProjectSettings, allowedHosts: readonly string[], env: NodeJS.ProcessEnv): void {
  for (const [alias, db] of Object.entries(settings.databases)) {
    if (db.vendor === "sqlite") continue;
    for (const { host, source } of effectiveHosts(alias, db, env)) {
      if (isLocalHost(host) || isAllowed(host, allowedHosts)) continue;
      throw new SecurityException(
        `database host ${shown(host)} from ${source} is not local (loopback or unix socket); refusing to connect`,
        `test against a local server, or list the host in CONCURRENT_TEST_CONFIG["allowed_hosts"] if that server only holds test databases`,
      );
    }
  }
}

/**
 * Legacy DNS server addresses (deprecated in sing-box 1.12, kept until 1.14): turns
 * `address: "tls://1.1.1.1"` and friends into the typed server options (sing-box
 * `DNSServerOptions.Upgrade`).
 *
 * @module
 */
import { ConfigError } from "../common/errors.ts";
import { isIP } from "../common/ip.ts";
import { LEGACY_RCODES } from "./transports/rcode.ts";

/** The typed form of a legacy address. */
export type UpgradedAddress =
  | { type: "local" }
  | { type: "udp" | "tcp" | "tls" | "quic"; server: string; server_port?: number }
  | { type: "https" | "h3"; server: string; server_port?: number; path?: string }
  | { type: "rcode"; rcode: number }
  | { type: "dhcp"; interface?: string }
  | { type: "fakeip" };

const DEFAULT_PORTS: Record<string, number> = { udp: 53, tcp: 53, tls: 853, quic: 853, https: 443, h3: 443 };

function splitHostPort(text: string, path: string): { host: string; port?: number } {
  let host = text;
  let port: number | undefined;
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    if (end < 0) throw new ConfigError(path, `invalid server address "${text}"`);
    host = text.slice(1, end);
    if (text[end + 1] === ":") port = Number(text.slice(end + 2));
  } else if (isIP(text) === 6) {
    host = text;
  } else {
    const colon = text.lastIndexOf(":");
    if (colon >= 0) {
      host = text.slice(0, colon);
      port = Number(text.slice(colon + 1));
    }
  }
  if (!host || (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535))) {
    throw new ConfigError(path, `invalid server address "${text}"`);
  }
  return { host, port };
}

/**
 * Upgrades a legacy `address`.
 *
 * @throws {ConfigError} If the scheme is unknown or the host is missing
 */
export function upgradeLegacyAddress(address: string, path = "address"): UpgradedAddress {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^?#]*)/.exec(address);
  if (!m) {
    if (address === "local" || address === "fakeip") return { type: address };
    const { host, port } = splitHostPort(address, path);
    return { type: "udp", server: host, ...(port && port !== 53 ? { server_port: port } : {}) };
  }
  const scheme = m[1].toLowerCase();
  const hostPart = m[2];
  switch (scheme) {
    case "local":
      return { type: "local" };
    case "fakeip":
      return { type: "fakeip" };
    case "rcode": {
      const rcode = LEGACY_RCODES[hostPart];
      if (rcode === undefined) throw new ConfigError(path, `unknown rcode: ${hostPart}`);
      return { type: "rcode", rcode };
    }
    case "dhcp":
      return hostPart && hostPart !== "auto" ? { type: "dhcp", interface: hostPart } : { type: "dhcp" };
    case "udp":
    case "tcp":
    case "tls":
    case "quic":
    case "https":
    case "h3": {
      const { host, port } = splitHostPort(hostPart, path);
      const out: UpgradedAddress = { type: scheme, server: host } as UpgradedAddress;
      if (port && port !== DEFAULT_PORTS[scheme]) (out as { server_port?: number }).server_port = port;
      if ((scheme === "https" || scheme === "h3") && m[3] && m[3] !== "/dns-query") {
        (out as { path?: string }).path = m[3];
      }
      return out;
    }
    default:
      throw new ConfigError(path, `unsupported DNS server scheme: ${scheme}`);
  }
}

/**
 * Typed errors shared across Switchyard. Messages follow Deno std style: sentence case,
 * no trailing period, the value quoted, detail after a colon.
 *
 * @module
 */

/**
 * A configuration value is invalid. `path` is the JSON path of the offending field
 * (for example `inbounds[0].listen_port`); the message starts with it.
 */
export class ConfigError extends Error {
  /** JSON path of the offending field, `""` for the document root. */
  readonly path: string;
  /**
   * @param path JSON path such as `inbounds[0].listen_port`
   * @param detail what is wrong, such as `expected integer 0..65535`
   */
  constructor(path: string, detail: string, options?: ErrorOptions) {
    super(path ? `${path}: ${detail}` : detail, options);
    this.name = "ConfigError";
    this.path = path;
  }
}

/**
 * Bytes from a peer violate a protocol. `offset` is the byte offset in the message where
 * decoding failed; `protocol` names the codec (`socks5`, `http`, …).
 */
export class ProtocolError extends Error {
  readonly protocol: string;
  readonly offset: number;
  constructor(protocol: string, offset: number, detail: string, options?: ErrorOptions) {
    super(`${protocol}: ${detail} (at byte ${offset})`, options);
    this.name = "ProtocolError";
    this.protocol = protocol;
    this.offset = offset;
  }
}

/** A CLI invocation is malformed (unknown flag, missing argument). Exit code 1. */
export class UsageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** Returns the message of any thrown value. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

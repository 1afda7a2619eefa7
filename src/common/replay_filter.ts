/**
 * Replay filter for handshake nonces (Shadowsocks salts, VMess auth IDs): remembers every key
 * for at least `windowMs` using two rotating generations. Time is passed in (sans-I/O).
 *
 * @module
 */

/** Remembers keys for at least `windowMs`. */
export class ReplayFilter {
  #current = new Set<string>();
  #previous = new Set<string>();
  #rotatedAt: number;
  #windowMs: number;

  constructor(windowMs: number, now = 0) {
    this.#windowMs = windowMs;
    this.#rotatedAt = now;
  }

  /** Records `key`; returns false if it was already seen within the window. */
  check(key: Uint8Array | string, now: number): boolean {
    if (now - this.#rotatedAt >= this.#windowMs) {
      this.#previous = now - this.#rotatedAt >= 2 * this.#windowMs ? new Set() : this.#current;
      this.#current = new Set();
      this.#rotatedAt = now;
    }
    const k = typeof key === "string" ? key : toHex(key);
    if (this.#current.has(k) || this.#previous.has(k)) return false;
    this.#current.add(k);
    return true;
  }
}

function toHex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += (b[i] < 16 ? "0" : "") + b[i].toString(16);
  return s;
}

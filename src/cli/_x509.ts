/**
 * `@peculiar/x509` with the `reflect-metadata` polyfill it needs at import time; imported
 * lazily so only `generate tls-keypair` pays for it.
 * @module
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

export { x509 };

/**
 * Switchyard entry point: a sing-box compatible proxy router, the paniq tunnel and a
 * datadog-traceroute compatible tracer in one program.
 *
 * @example Usage
 * ```sh
 * deno run -A --unstable-net main.ts run -c examples/mixed.json
 * ```
 * @module
 */
import { runCli } from "./src/cli/mod.ts";

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args));
}

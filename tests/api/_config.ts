/** The Switchyard config the Clash API tests run: a selector over two origins, DNS with modes and fake IPs. */
import { freePort } from "../_util/mod.ts";

/** Secret of the test API. */
export const SECRET = "t0ken";

/** Ports and paths of one test instance. */
export interface ApiSetup {
  mixed: number;
  apiPort: number;
  dir: string;
  config: Record<string, unknown>;
}

/**
 * Builds the config; `dir` holds the cache file and the external UI (`dir/ui/index.html`).
 * @param origins ports of origin A and origin B
 */
export async function apiSetup(origins: [number, number]): Promise<ApiSetup> {
  const dir = await Deno.makeTempDir({ prefix: "sy-clash-api-" });
  await Deno.mkdir(`${dir}/ui`);
  await Deno.writeTextFile(`${dir}/ui/index.html`, "<title>dashboard</title>\n");
  const [mixed, apiPort] = [freePort(), freePort()];
  const config = {
    log: { level: "debug" },
    inbounds: [{ type: "mixed", tag: "in", listen: "127.0.0.1", listen_port: mixed }],
    outbounds: [
      { type: "selector", tag: "sel", outbounds: ["a", "b"] },
      { type: "direct", tag: "a", override_address: "127.0.0.1", override_port: origins[0] },
      { type: "direct", tag: "b", override_address: "127.0.0.1", override_port: origins[1] },
      { type: "block", tag: "blk" },
    ],
    route: { rules: [{ domain: ["blocked.test"], outbound: "blk" }], final: "sel" },
    dns: {
      servers: [
        { type: "hosts", tag: "h-rule", predefined: { "mode.test": "10.0.0.1" } },
        { type: "hosts", tag: "h-global", predefined: { "mode.test": "10.0.0.2" } },
        { type: "fakeip", tag: "fake", inet4_range: "198.18.0.0/15" },
      ],
      rules: [
        { domain_suffix: ["fake.test"], server: "fake" },
        { clash_mode: "Global", server: "h-global" },
      ],
      final: "h-rule",
    },
    experimental: {
      clash_api: {
        external_controller: `127.0.0.1:${apiPort}`,
        secret: SECRET,
        external_ui: `${dir}/ui`,
        access_control_allow_origin: ["http://ui.test"],
        access_control_allow_private_network: true,
      },
      cache_file: { enabled: true, path: `${dir}/cache.db`, store_fakeip: true },
    },
  };
  return { mixed, apiPort, dir, config };
}

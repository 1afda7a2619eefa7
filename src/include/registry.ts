/**
 * The one list of protocols this build includes (sing-box `include/registry.go`). Nothing
 * registers itself on import; add a protocol by adding its register call here.
 *
 * @module
 */
import { type InboundRegistry, type OutboundRegistry, Registry } from "../adapter/registry.ts";
import type { ConfigRegistries } from "../config/config.ts";
import * as block from "../protocol/block/mod.ts";
import * as direct from "../protocol/direct/mod.ts";
import * as http from "../protocol/http/mod.ts";
import * as mixed from "../protocol/mixed/mod.ts";
import * as paniq from "../protocol/paniq/mod.ts";
import * as selector from "../protocol/selector/mod.ts";
import * as shadowsocks from "../protocol/shadowsocks/mod.ts";
import * as socks from "../protocol/socks/mod.ts";
import * as trojan from "../protocol/trojan/mod.ts";
import * as urltest from "../protocol/urltest/mod.ts";
import * as vless from "../protocol/vless/mod.ts";
import * as vmess from "../protocol/vmess/mod.ts";

/** Returns a registry filled with every included inbound type. */
export function inboundRegistry(): InboundRegistry {
  const r: InboundRegistry = new Registry("inbound");
  direct.registerInbound(r);
  http.registerInbound(r);
  mixed.registerInbound(r);
  paniq.registerInbound(r);
  socks.registerInbound(r);
  shadowsocks.registerInbound(r);
  trojan.registerInbound(r);
  vless.registerInbound(r);
  vmess.registerInbound(r);
  return r;
}

/** Returns a registry filled with every included outbound type. */
export function outboundRegistry(): OutboundRegistry {
  const r: OutboundRegistry = new Registry("outbound");
  block.registerOutbound(r);
  direct.registerOutbound(r);
  http.registerOutbound(r);
  paniq.registerOutbound(r);
  selector.registerOutbound(r);
  socks.registerOutbound(r);
  shadowsocks.registerOutbound(r);
  trojan.registerOutbound(r);
  urltest.registerOutbound(r);
  vless.registerOutbound(r);
  vmess.registerOutbound(r);
  return r;
}

/** Both registries, as the config loader wants them. */
export function registries(): ConfigRegistries {
  return { inbounds: inboundRegistry(), outbounds: outboundRegistry() };
}

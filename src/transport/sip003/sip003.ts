/**
 * SIP003 plugin options (`plugin_opts`, `key=value;flag;...`, `\` escapes) and the built-in
 * plugins: `v2ray-plugin` client (WebSocket, optionally over TLS: `tls`, `host`, `path`,
 * `mode=websocket`) and `obfs-local` (simple-obfs: `obfs=http|tls`, `obfs-host`).
 *
 * @module
 */
import { ConfigError } from "../../common/errors.ts";
import type { OutboundTlsOptions } from "../tls/config.ts";
import type { V2rayTransportOptions } from "../v2ray.ts";
import type { Stream } from "../../adapter/types.ts";
import { CodecStream } from "../../common/codec_stream.ts";
import { ObfsHttpDecoder, ObfsHttpEncoder, type ObfsMode, ObfsTlsDecoder, ObfsTlsEncoder } from "./obfs.ts";

/** Wraps a connection to the obfs server (`port` is the server port, for the HTTP `Host`). */
export function obfsWrap(conn: Stream, obfs: { mode: ObfsMode; host: string }, port: number): Stream {
  return obfs.mode === "http"
    ? new CodecStream(conn, new ObfsHttpEncoder(obfs.host, port), new ObfsHttpDecoder())
    : new CodecStream(conn, new ObfsTlsEncoder(obfs.host), new ObfsTlsDecoder());
}

/**
 * Parses `plugin_opts` into a map (flags map to `""`).
 *
 * @throws {ConfigError} On a dangling escape.
 */
export function parsePluginOptions(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let key = "", val = "", inVal = false;
  const flush = () => {
    if (key || inVal) out.set(key.trim(), val);
    key = val = "";
    inVal = false;
  };
  for (let i = 0; i < text.length; i++) {
    let c = text[i];
    if (c === "\\") {
      if (i + 1 >= text.length) throw new ConfigError("plugin_opts", "dangling escape");
      c = text[++i];
      if (inVal) val += c;
      else key += c;
      continue;
    }
    if (c === ";") flush();
    else if (c === "=" && !inVal) inVal = true;
    else if (inVal) val += c;
    else key += c;
  }
  flush();
  out.delete("");
  return out;
}

/** The TLS and transport layers a plugin stands for. */
export interface PluginLayers {
  tls?: OutboundTlsOptions;
  transport?: V2rayTransportOptions;
  /** simple-obfs wrapping of the raw connection (`obfs-local`). */
  obfs?: { mode: ObfsMode; host: string };
}

/**
 * Maps a plugin and its options to layers.
 *
 * @throws {ConfigError} For an unsupported plugin or mode.
 */
export function pluginLayers(plugin: string, opts: Map<string, string>): PluginLayers {
  if (plugin === "obfs-local") {
    const mode = opts.get("obfs") ?? "http";
    if (mode !== "http" && mode !== "tls") {
      throw new ConfigError("plugin_opts", `unknown obfs mode "${mode}"`);
    }
    return { obfs: { mode, host: opts.get("obfs-host") ?? "" } };
  }
  if (plugin !== "v2ray-plugin") {
    throw new ConfigError("plugin", `plugin "${plugin}" is not supported by this build`);
  }
  const mode = opts.get("mode") ?? "websocket";
  if (mode !== "websocket") {
    throw new ConfigError("plugin_opts", `v2ray-plugin mode "${mode}" is not supported`);
  }
  const host = opts.get("host");
  const transport: V2rayTransportOptions = {
    type: "ws",
    path: opts.get("path") ?? "/",
    headers: host ? { Host: [host] } : undefined,
  };
  const tls: OutboundTlsOptions | undefined = opts.has("tls")
    ? { enabled: true, server_name: host, insecure: opts.has("insecure") ? true : undefined }
    : undefined;
  return { tls, transport };
}

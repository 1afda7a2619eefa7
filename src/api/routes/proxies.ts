/**
 * `/proxies` and `/group` (spec sing-box.md §5.1): every outbound as a Clash proxy object, the
 * synthetic `GLOBAL` group, selector switching, and URL-test delays of one proxy or a group.
 *
 * Divergence: sing-box replaces an `http://` test URL by the default `https` one; Switchyard
 * tests the URL given, so local plain-HTTP origins can be measured.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import { z } from "zod";
import { isOutboundGroup, type Outbound } from "../../adapter/types.ts";
import { realTag } from "../../protocol/group/members.ts";
import { SelectorOutbound } from "../../protocol/selector/outbound.ts";
import { testMembers } from "../../protocol/urltest/test_members.ts";
import { UrltestOutbound } from "../../protocol/urltest/outbound.ts";
import { urlTest, UrlTestTimeoutError } from "../../protocol/urltest/url_test.ts";
import type { ApiDeps } from "../deps.ts";
import { checkBody, checkQuery, errorResponse, intParam } from "../validate.ts";

/** Clash type names of outbound types (sing-box `C.ProxyDisplayName`; `block` shows as `Reject`). */
const DISPLAY_NAMES: Record<string, string> = {
  direct: "Direct",
  block: "Reject",
  dns: "DNS",
  socks: "SOCKS",
  http: "HTTP",
  shadowsocks: "Shadowsocks",
  vmess: "VMess",
  trojan: "Trojan",
  vless: "VLESS",
  wireguard: "WireGuard",
  hysteria: "Hysteria",
  hysteria2: "Hysteria2",
  tuic: "TUIC",
  shadowtls: "ShadowTLS",
  anytls: "AnyTLS",
  tor: "Tor",
  ssh: "SSH",
  selector: "Selector",
  urltest: "URLTest",
};

/** Types left out of `GLOBAL.all`. */
const NOT_IN_GLOBAL = new Set(["direct", "block", "dns"]);

function displayName(type: string): string {
  return DISPLAY_NAMES[type] ?? type.charAt(0).toUpperCase() + type.slice(1);
}

/** One proxy object: `{type, name, udp, history[], now?, all?}`. */
export function proxyInfo(deps: ApiDeps, o: Outbound): Record<string, unknown> {
  const h = deps.history.load(realTag(o));
  const info: Record<string, unknown> = {
    type: displayName(o.type),
    name: o.tag,
    udp: o.network.includes("udp"),
    history: h ? [{ time: new Date(h.time).toISOString(), delay: h.delay }] : [],
  };
  if (isOutboundGroup(o)) {
    info.now = o.now();
    info.all = o.all();
  }
  return info;
}

function globalGroup(deps: ApiDeps): Record<string, unknown> {
  const all = [...deps.outbounds.values()].filter((o) => !NOT_IN_GLOBAL.has(o.type)).map((o) => o.tag);
  const def = deps.defaultOutbound;
  all.sort((a, b) => (a === def ? -1 : b === def ? 1 : 0));
  return { type: "Fallback", name: "GLOBAL", udp: true, history: [], all, now: def };
}

const delayQuery = z.object({
  url: z.string().optional().refine((u) => !u || /^https?:\/\//.test(u), {
    error: "expected an http or https URL",
  }),
  timeout: intParam(1, 32767),
});

const selectBody = z.object({ name: z.string({ error: "expected string" }) });

function lookupProxy(c: Context, deps: ApiDeps): Outbound | Response {
  const o = deps.outbounds.get(c.req.param("name") ?? "");
  return o ?? errorResponse(c, 404, "Resource not found");
}

/** Resolves `p` or rejects with a timeout error after `ms`. */
async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), ms));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Registers `/proxies…` and `/group…`. */
export function registerProxyRoutes(app: Hono, deps: ApiDeps): void {
  app.get("/proxies", (c) => {
    const proxies: Record<string, unknown> = { GLOBAL: globalGroup(deps) };
    for (const o of deps.outbounds.values()) proxies[o.tag] = proxyInfo(deps, o);
    return c.json({ proxies });
  });

  app.get("/proxies/:name", (c) => {
    const o = lookupProxy(c, deps);
    return o instanceof Response ? o : c.json(proxyInfo(deps, o));
  });

  app.put("/proxies/:name", async (c) => {
    const o = lookupProxy(c, deps);
    if (o instanceof Response) return o;
    const body = await checkBody(c, selectBody);
    if (!body.ok) return body.response;
    if (!(o instanceof SelectorOutbound)) return errorResponse(c, 400, "Must be a Selector");
    if (!o.select(body.value.name)) {
      return errorResponse(
        c,
        400,
        `Selector update error: "${body.value.name}" is not a member of "${o.tag}"`,
      );
    }
    return c.body(null, 204);
  });

  app.get("/proxies/:name/delay", async (c) => {
    const o = lookupProxy(c, deps);
    if (o instanceof Response) return o;
    const q = checkQuery(c, delayQuery);
    if (!q.ok) return q.response;
    const real = realTag(o);
    try {
      const delay = await urlTest(o, q.value.url ?? "", { timeoutMs: q.value.timeout });
      deps.history.store(real, { time: Date.now(), delay });
      return c.json({ delay });
    } catch (e) {
      deps.history.delete(real);
      if (e instanceof UrlTestTimeoutError) return errorResponse(c, 504, "Timeout");
      return errorResponse(c, 503, "An error occurred in the delay test");
    }
  });

  app.get("/group", (c) => {
    const groups = [...deps.outbounds.values()].filter(isOutboundGroup).map((o) => proxyInfo(deps, o));
    return c.json({ proxies: groups });
  });

  app.get("/group/:name", (c) => {
    const o = lookupProxy(c, deps);
    if (o instanceof Response) return o;
    return isOutboundGroup(o) ? c.json(proxyInfo(deps, o)) : errorResponse(c, 404, "Resource not found");
  });

  app.get("/group/:name/delay", async (c) => {
    const o = lookupProxy(c, deps);
    if (o instanceof Response) return o;
    if (!isOutboundGroup(o)) return errorResponse(c, 404, "Resource not found");
    const q = checkQuery(c, delayQuery);
    if (!q.ok) return q.response;
    // A urltest group runs its own round (its own URL); other groups test each member here.
    const ctl = new AbortController();
    const run = o instanceof UrltestOutbound ? o.urlTest() : testMembers(
      o.all().map((t) => deps.outbounds.get(t)).filter((m) => m !== undefined),
      {
        link: q.value.url ?? "",
        history: deps.history,
        lookup: (t) => deps.outbounds.get(t),
        logger: deps.logger,
        signal: ctl.signal,
        timeoutMs: q.value.timeout,
      },
    );
    const result = await withTimeout(run, q.value.timeout);
    if (result === "timeout") {
      ctl.abort(); // the group's own round keeps running; member tests stop here
      return errorResponse(c, 504, "Timeout");
    }
    return c.json(result);
  });
}

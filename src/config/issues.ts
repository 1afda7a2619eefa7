/**
 * Turns zod issues into {@linkcode ConfigError}s whose message starts with the JSON path,
 * for example `inbounds[0].listen_port: expected integer 0..65535`.
 *
 * @module
 */
import type { z } from "zod";
import { ConfigError } from "../common/errors.ts";

/** Formats a path (`["inbounds", 0, "listen_port"]`) as `inbounds[0].listen_port`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** Joins a prefix path and a relative path. */
export function joinPath(prefix: string, rel: string): string {
  if (!prefix) return rel;
  if (!rel) return prefix;
  return rel.startsWith("[") ? prefix + rel : `${prefix}.${rel}`;
}

function describe(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      if (issue.message.startsWith("expected ")) return issue.message;
      return `expected ${issue.expected}`;
    case "unrecognized_keys":
      return `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
    case "invalid_value":
      if (issue.message.startsWith("expected ")) return issue.message;
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_union": {
      // Report the most specific branch: the one whose issues go deepest.
      const branches = issue.errors.filter((b) => b.length > 0);
      const sub = branches.flat().sort((a, b) => b.path.length - a.path.length)[0];
      if (sub && sub.path.length > 0) return `${formatPath(sub.path)}: ${describe(sub)}`;
      return issue.message.startsWith("Invalid input") ? "invalid value" : issue.message;
    }
    default:
      return issue.message;
  }
}

/**
 * Converts the first issue of a failed parse into a ConfigError located at `prefix` + the
 * issue's path.
 */
export function toConfigError(error: z.ZodError, prefix = ""): ConfigError {
  const issue = error.issues[0]!;
  let path = joinPath(prefix, formatPath(issue.path));
  let detail = describe(issue);
  // invalid_union returns "sub.path: detail"; fold the sub path into the location.
  const m = issue.code === "invalid_union" ? /^([\w.[\]]+): (.*)$/s.exec(detail) : null;
  if (m) {
    path = joinPath(path, m[1]!);
    detail = m[2]!;
  }
  return new ConfigError(path, detail);
}

/**
 * Parses `value` with `schema`, throwing a path-naming ConfigError on failure.
 * @throws {ConfigError} If validation fails
 */
export function parseAt<T>(schema: z.ZodType<T>, value: unknown, prefix: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw toConfigError(r.error, prefix);
  return r.data;
}

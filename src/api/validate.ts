/**
 * Validation at the edge of the Clash API: query strings and JSON bodies go through zod schemas,
 * and every failure becomes `400 {"message": …}` naming the offending parameter or field.
 *
 * @module
 */
import type { Context } from "hono";
import { z } from "zod";
import { intRange } from "../config/common.ts";
import { toConfigError } from "../config/issues.ts";

/** A JSON error body as Clash clients expect it (sing-box `HTTPError`). */
export interface ApiError {
  message: string;
}

/** Responds with `status` and `{"message": message}`. */
export function errorResponse(
  c: Context,
  status: 400 | 401 | 404 | 500 | 503 | 504,
  message: string,
): Response {
  return c.json({ message } satisfies ApiError, status);
}

/** A decimal integer query parameter in `lo..hi`. */
export function intParam(lo: number, hi: number) {
  const error = `expected integer ${lo}..${hi}`;
  return z.string({ error }).regex(/^-?\d+$/, { error }).transform(Number).pipe(
    intRange(lo, hi),
  );
}

/** The result of a check: the value, or a 400 response to return. */
export type Checked<T> = { ok: true; value: T } | { ok: false; response: Response };

function failed(c: Context, prefix: string, error: z.ZodError): { ok: false; response: Response } {
  return { ok: false, response: errorResponse(c, 400, `${prefix}: ${toConfigError(error).message}`) };
}

/**
 * Validates the query string (first value of each key).
 * @returns the parsed value, or a 400 response such as `Invalid query parameter: timeout: expected integer 1..32767`
 */
export function checkQuery<T>(c: Context, schema: z.ZodType<T>): Checked<T> {
  const r = schema.safeParse(c.req.query());
  return r.success ? { ok: true, value: r.data } : failed(c, "Invalid query parameter", r.error);
}

/**
 * Reads and validates a JSON body.
 * @returns the parsed value, or a 400 response such as `Body invalid: name: expected string`
 */
export async function checkBody<T>(c: Context, schema: z.ZodType<T>): Promise<Checked<T>> {
  let json: unknown;
  try {
    json = JSON.parse(await c.req.text());
  } catch (e) {
    return { ok: false, response: errorResponse(c, 400, `Body invalid: ${(e as Error).message}`) };
  }
  const r = schema.safeParse(json);
  return r.success ? { ok: true, value: r.data } : failed(c, "Body invalid", r.error);
}

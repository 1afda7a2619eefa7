/** Minimal assertions on `node:assert` (JSR is not reachable from CI machines). */
import nodeAssert from "node:assert/strict";

export function assert(cond: unknown, msg?: string): asserts cond {
  nodeAssert.ok(cond, msg);
}
export function assertFalse(cond: unknown, msg?: string): void {
  nodeAssert.ok(!cond, msg);
}
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, msg);
}
export function assertThrows(fn: () => unknown, match?: RegExp): void {
  if (match) nodeAssert.throws(fn, match);
  else nodeAssert.throws(fn);
}
export async function assertRejects(fn: () => Promise<unknown>, match?: RegExp): Promise<void> {
  if (match) await nodeAssert.rejects(fn, match);
  else await nodeAssert.rejects(fn);
}

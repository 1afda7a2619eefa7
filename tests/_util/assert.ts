/**
 * Minimal assertions over `node:assert/strict` (JSR's @std/assert is unreachable here).
 * @module
 */
import nodeAssert from "node:assert/strict";

/** Asserts that `cond` is truthy. */
export function assert(cond: unknown, msg?: string): asserts cond {
  nodeAssert.ok(cond, msg);
}

/** Asserts deep equality (typed arrays compared by content). */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, msg);
}

/** Asserts that `actual` contains `expected`. */
export function assertStringIncludes(actual: string, expected: string, msg?: string): void {
  nodeAssert.ok(
    actual.includes(expected),
    msg ?? `expected ${JSON.stringify(actual.slice(0, 2000))} to contain ${JSON.stringify(expected)}`,
  );
}

/** Asserts `fn` throws an instance of `type`; returns the error. */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  type: new (...args: any[]) => E,
  includes?: string,
): E {
  try {
    fn();
  } catch (e) {
    nodeAssert.ok(e instanceof type, `expected ${type.name}, got ${e}`);
    if (includes) assertStringIncludes((e as Error).message, includes);
    return e as E;
  }
  throw new nodeAssert.AssertionError({ message: `expected ${type.name} to be thrown` });
}

/** Asserts the promise rejects with an instance of `type`; returns the error. */
export async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  type: new (...args: any[]) => E,
  includes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (e) {
    nodeAssert.ok(e instanceof type, `expected ${type.name}, got ${e}`);
    if (includes) assertStringIncludes((e as Error).message, includes);
    return e as E;
  }
  throw new nodeAssert.AssertionError({ message: `expected ${type.name} to be rejected` });
}

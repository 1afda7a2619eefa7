/** Minimal std-style assertions on top of `node:assert` (JSR is not reachable here). */
import assert from "node:assert/strict";

export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  assert.deepStrictEqual(actual, expected, msg);
}

export function assert_(cond: unknown, msg?: string): asserts cond {
  assert.ok(cond, msg);
}
export { assert_ as assert };

// deno-lint-ignore no-explicit-any
export function assertThrows<E extends Error>(fn: () => unknown, cls: new (...a: any[]) => E, msgIncludes?: string): E {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof cls)) throw new assert.AssertionError({ message: `Expected ${cls.name}, got ${e}` });
    if (msgIncludes && !e.message.includes(msgIncludes)) {
      throw new assert.AssertionError({ message: `Expected message to include "${msgIncludes}": ${e.message}` });
    }
    return e;
  }
  throw new assert.AssertionError({ message: `Expected ${cls.name} to be thrown` });
}

// deno-lint-ignore no-explicit-any
export async function assertRejects<E extends Error>(fn: () => Promise<unknown>, cls: new (...a: any[]) => E, msgIncludes?: string): Promise<E> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof cls)) throw new assert.AssertionError({ message: `Expected ${cls.name}, got ${e}` });
    if (msgIncludes && !e.message.includes(msgIncludes)) {
      throw new assert.AssertionError({ message: `Expected message to include "${msgIncludes}": ${e.message}` });
    }
    return e;
  }
  throw new assert.AssertionError({ message: `Expected ${cls.name} to be rejected` });
}

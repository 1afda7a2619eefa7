/** Minimal assertions over node:assert (no jsr registry here). */
import nodeAssert from "node:assert/strict";

export function assert(cond: unknown, msg?: string): asserts cond {
  nodeAssert.ok(cond, msg);
}

export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  if (actual instanceof Uint8Array && expected instanceof Uint8Array) {
    nodeAssert.deepStrictEqual([...actual], [...expected], msg);
    return;
  }
  nodeAssert.deepStrictEqual(actual, expected, msg);
}

export function assertThrows(fn: () => unknown, cls?: new (...a: any[]) => Error, includes?: string): Error {
  try {
    fn();
  } catch (e) {
    if (cls && !(e instanceof cls)) throw new Error(`expected ${cls.name}, got ${e}`);
    if (includes && !(e as Error).message.includes(includes)) {
      throw new Error(`expected message to include "${includes}", got "${(e as Error).message}"`);
    }
    return e as Error;
  }
  throw new Error("expected function to throw");
}

export async function assertRejects(
  fn: () => Promise<unknown>,
  cls?: new (...a: any[]) => Error,
  includes?: string,
): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    if (cls && !(e instanceof cls)) throw new Error(`expected ${cls.name}, got ${e}`);
    if (includes && !(e as Error).message.includes(includes)) {
      throw new Error(`expected message to include "${includes}", got "${(e as Error).message}"`);
    }
    return e as Error;
  }
  throw new Error("expected promise to reject");
}

import { expect } from "vitest";

// biome-ignore lint/suspicious/noExplicitAny: an error class takes any constructor arguments
type ErrorClass<E> = new (...args: any[]) => E;

/** The error `p` rejects with (fails the test when it resolves). */
export async function rejection<E = Error>(p: Promise<unknown>): Promise<E> {
  try {
    await p;
  } catch (err) {
    return err as E;
  }
  throw new Error("expected a rejection");
}

/** The error `fn` throws, asserting it is a `cls` (fails the test when it returns). */
export function thrownBy<E>(cls: ErrorClass<E>, fn: () => unknown): E {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(cls);
    return err as E;
  }
  throw new Error("expected a throw");
}

/** The error `p` rejects with, asserting it is a `cls` (fails the test when it resolves). */
export async function rejectedWith<E>(cls: ErrorClass<E>, p: Promise<unknown>): Promise<E> {
  const err = await rejection<E>(p);
  expect(err).toBeInstanceOf(cls);
  return err;
}

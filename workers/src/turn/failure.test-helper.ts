import { expect } from 'vitest';
import { HttpError } from '../errors.ts';

/** Awaits a promise that must reject with one of the edge's HttpErrors, and returns it. */
export async function failure(p: Promise<unknown>): Promise<HttpError> {
  const err = await p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HttpError);
  return err as HttpError;
}

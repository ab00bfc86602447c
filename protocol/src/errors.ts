import { z } from 'zod';

/** Every JSON error of the edge: `{"error": {"code", "message"}}`. */
export const ErrorBody = z.strictObject({
  error: z.strictObject({ code: z.string(), message: z.string() }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

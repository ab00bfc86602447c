import { z } from 'zod';

/** RTCIceServer as browsers and werift take it (`urls` always an array here). */
export const IceServer = z.strictObject({
  urls: z.array(z.string().min(1)).min(1),
  username: z.string().optional(),
  credential: z.string().optional(),
});
export type IceServer = z.infer<typeof IceServer>;

/** `GET /v1/ice-servers` response; `expiresAt` in epoch ms (null when nothing expires). */
export const IceServersResponse = z.strictObject({
  iceServers: z.array(IceServer),
  expiresAt: z.number().int().nullable(),
});
export type IceServersResponse = z.infer<typeof IceServersResponse>;

import { z } from 'zod';

/** The telephony providers a phone call can come through (TELEPHONY_PROVIDER picks the default for outbound calls). */
export const PhoneProvider = z.enum(['twilio', 'telnyx', 'plivo']);
export type PhoneProvider = z.infer<typeof PhoneProvider>;

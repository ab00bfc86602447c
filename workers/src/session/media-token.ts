/**
 * The `<Parameter name="token">` Twilio's stream presents: a control-token-format HMAC over this
 * subject, so a media token can never be used as a worker's control token and vice versa.
 */
export const mediaTokenSubject = (sessionId: string) => `media:${sessionId}`;

/** Subject of the claiming worker's resume token (re-dialing the control WebSocket). */
export const resumeTokenSubject = (sessionId: string) => `resume:${sessionId}`;

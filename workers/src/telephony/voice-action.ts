/** What the voice webhook (and `<Connect action>`, which requests the same URL) should answer. */
export type PhoneVoiceAction =
  /** A new stream, with a fresh single-use media token. */
  | { action: 'connect'; sessionId: string; token: string }
  /** Not claimed yet: the hold message, a pause and a redirect to the webhook. */
  | { action: 'hold' }
  /** A stream is still attached (a replay, or Twilio's action request racing the close): a silent pause and a redirect, no token. */
  | { action: 'wait' }
  /** The session ended after it ran (the handler finished, the caller hung up): hang up without a word. */
  | { action: 'hangup' }
  /** Nobody took the call: the busy message, then hang up. */
  | { action: 'goodbye' }
  /** A cold transfer: dial the human; the dial's end requests the voice URL with `transfer=done`. */
  | { action: 'dial'; to: string; from?: string };

import { app } from './app.ts';

export { CallSession } from './session/call-session.ts';
export { ClientSessions } from './session/client-sessions.ts';
export default app;

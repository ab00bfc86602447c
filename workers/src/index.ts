import { app } from './app.ts';

export { CallSession } from './session/call-session.ts';
export default app;

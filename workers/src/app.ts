import { Hono } from 'hono';
import type { Env } from './env.ts';
import { HttpError } from './errors.ts';
import { corsForApi } from './http/cors.ts';
import { calls } from './routes/calls.ts';
import { control } from './routes/control.ts';
import { demoPage } from './routes/demo-page.ts';
import { health } from './routes/health.ts';
import { iceServers } from './routes/ice-servers.ts';
import { legs } from './routes/legs.ts';
import { resume } from './routes/resume.ts';
import { sessions } from './routes/sessions.ts';
import { tokens } from './routes/tokens.ts';
import { stream } from './routes/stream.ts';
import { plivoRoutes } from './telephony/plivo/routes.ts';
import { telnyxRoutes } from './telephony/telnyx/routes.ts';
import { twilioRoutes } from './telephony/twilio/routes.ts';

export const app = new Hono<{ Bindings: Env }>();

app.use('/v1/*', corsForApi);
app.route('/', demoPage);
app.route('/', health);
app.route('/', sessions);
app.route('/', legs);
app.route('/', resume);
app.route('/', iceServers);
app.route('/', tokens);
app.route('/', calls);
app.route('/', stream);
app.route('/', twilioRoutes);
app.route('/', telnyxRoutes);
app.route('/', plivoRoutes);
app.route('/', control);

app.notFound((c) => c.json({ error: { code: 'not_found', message: `no route for ${c.req.method} ${new URL(c.req.url).pathname}` } }, 404));

/** The one mapping from the error family to JSON errors; anything else is a logged 500. */
app.onError((err, c) => {
  if (err instanceof HttpError) {
    return c.json({ error: { code: err.code, message: err.message } }, err.status, err.headers);
  }
  console.error('unhandled error', err);
  return c.json({ error: { code: 'internal', message: 'internal error' } }, 500);
});

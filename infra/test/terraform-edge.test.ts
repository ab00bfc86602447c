import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../workers/src/config.ts';
import { evaluateTemplate } from './terraform-expr.ts';
import { context, ROOT, ref, str, tf, validationErrors } from './terraform-fixture.ts';
import { mustGet } from './terraform-model.ts';

describe('edge settings', () => {
  it('sets only settings the edge knows, none of which wrangler.jsonc already sets as a var', async () => {
    const known = Object.keys(loadConfig({}));
    const names = Object.keys(tf.locals.get('edge_secret_values') as Record<string, string>);
    expect(names.filter((n) => !known.includes(n))).toEqual([]);
    const wrangler = JSON.parse(
      (await readFile(join(ROOT, 'workers/wrangler.jsonc'), 'utf8')).replace(/^\s*\/\/.*$/gm, ''),
    ) as { vars?: Record<string, string>; env: { production: { vars?: Record<string, string> } } };
    // `wrangler secret bulk` fails on a name that is also a var of the environment.
    const vars = Object.keys(wrangler.env.production.vars ?? {});
    expect(vars.filter((v) => names.includes(v))).toEqual([]);
  });

  it('always deploys the edge with token auth and a per-client session limit', () => {
    const values = tf.locals.get('edge_secret_values') as Record<string, string>;
    expect(values.AUTH_MODE).toBe('token');
    expect(values.MAX_SESSIONS_PER_CLIENT).toBe(ref('tostring(var.max_sessions_per_client)'));
    expect(tf.variables.get('max_sessions_per_client')?.default).toBe(5);
    const names = str(tf.locals.get('edge_secret_names'));
    // Listed unconditionally: in the first list of the concat().
    const always = /^\$\{concat\(\s*\[([^\]]*)\]/.exec(names)?.[1] ?? '';
    expect(always).toContain('"AUTH_MODE"');
    expect(always).toContain('"MAX_SESSIONS_PER_CLIENT"');
    expect(always).toContain('"CORS_ORIGINS"');
    expect(values.CORS_ORIGINS).toBe(ref('var.cors_origins'));
    expect(tf.variables.get('cors_origins')?.default).toBe('*');
    expect(validationErrors('cors_origins', 'https://app.example.com/path')).toHaveLength(1);
    expect(validationErrors('cors_origins', 'app.example.com')).toHaveLength(1);
    expect(validationErrors('cors_origins', 'https://app.example.com,http://localhost:3000')).toEqual([]);
    expect(validationErrors('cors_origins', '*')).toEqual([]);
    expect(validationErrors('max_sessions_per_client', 0)).toHaveLength(1);
    expect(validationErrors('max_sessions_per_client', 2.5)).toHaveLength(1);
    expect(validationErrors('max_sessions_per_client', 20)).toEqual([]);
  });

  it('points each provider at routes the edge serves', async () => {
    const outputs = {
      twilio: ['twilio_voice_webhook_url', 'twilio_status_callback_url'],
      telnyx: ['telnyx_voice_webhook_url', 'telnyx_status_callback_url'],
      plivo: ['plivo_answer_url', 'plivo_hangup_url'],
    };
    for (const [provider, names] of Object.entries(outputs)) {
      const routes = await readFile(join(ROOT, `workers/src/telephony/${provider}/routes.ts`), 'utf8');
      for (const out of names) {
        const path = /\}(\/[\w/]+)$/.exec(str(tf.outputs.get(out)?.value))?.[1];
        expect(path, out).toBeTruthy();
        expect(routes).toContain(`.post('${path}'`);
      }
    }
  });

  it("hands the edge a provider's settings only when it is configured", () => {
    const names = (vars: Record<string, string>) => evaluateTemplate(str(tf.locals.get('edge_secret_names')), context(vars)) as string[];
    expect(names({})).not.toContain('TELNYX_PUBLIC_KEY');
    expect(names({})).not.toContain('PLIVO_AUTH_TOKEN');
    expect(names({})).toContain('TELEPHONY_PROVIDER');
    expect(names({ telnyx_public_key: 'k', telnyx_app_id: 'a' })).toEqual(expect.arrayContaining(['TELNYX_PUBLIC_KEY', 'TELNYX_API_KEY', 'TELNYX_APP_ID', 'TELNYX_FROM']));
    expect(names({ plivo_auth_id: 'MA1' })).toEqual(expect.arrayContaining(['PLIVO_AUTH_ID', 'PLIVO_AUTH_TOKEN', 'PLIVO_FROM']));
  });

  it('creates the Cloudflare TURN key only when Cloudflare is one of the TURN providers, and passes each listed provider its settings', () => {
    const key = mustGet(tf.resources, 'cloudflare_calls_turn_app.edge');
    const names = (turn_provider: string) => evaluateTemplate(str(tf.locals.get('edge_secret_names')), context({ turn_provider })) as string[];
    for (const [list, count] of [['cloudflare', 1], ['twilio,cloudflare', 1], ['twilio', 0], ['none', 0]] as const)
      expect(evaluateTemplate(str(key.count), context({ turn_provider: list })), list).toBe(count);
    expect(names('cloudflare,coturn')).toEqual(expect.arrayContaining(['CLOUDFLARE_TURN_KEY_ID', 'TURN_URLS', 'TURN_SECRET']));
    expect(names('twilio')).not.toContain('CLOUDFLARE_TURN_KEY_ID');
    expect(names('twilio')).not.toContain('TURN_URLS');
    expect(tf.outputs.get('edge_secrets')?.sensitive).toBe(true);
  });

  it('accepts an ordered list of up to three TURN providers, or none alone', () => {
    for (const ok of ['cloudflare', 'cloudflare,twilio', 'coturn,cloudflare,twilio', 'none']) expect(validationErrors('turn_provider', ok), ok).toEqual([]);
    for (const bad of ['none,twilio', 'cloudflare,', 'Cloudflare', 'stun', '']) expect(validationErrors('turn_provider', bad), bad).not.toEqual([]);
  });
});

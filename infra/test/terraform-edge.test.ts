import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../workers/src/config.ts';
import { ROOT, str, tf } from './terraform-fixture.ts';
import { mustGet } from './terraform-model.ts';

describe('edge settings', () => {
  it('sets only settings the edge knows, none of which wrangler.jsonc already sets as a var', async () => {
    const known = Object.keys(loadConfig({}));
    const names = Object.keys(tf.locals.get('edge_secret_values') as Record<string, string>);
    expect(names.filter((n) => !known.includes(n))).toEqual([]);
    const wrangler = JSON.parse(
      (await readFile(join(ROOT, 'workers/wrangler.jsonc'), 'utf8')).replace(/^\s*\/\/.*$/gm, ''),
    ) as { vars?: Record<string, string>; env: { production: { vars: Record<string, string> } } };
    const vars = Object.keys(wrangler.env.production.vars);
    expect(vars.filter((v) => names.includes(v))).toEqual([]);
    expect(wrangler.env.production.vars.AUTH_MODE).toBe('token');
  });

  it('points Twilio at routes the edge serves', async () => {
    const routes = await readFile(join(ROOT, 'workers/src/routes/twilio-webhooks.ts'), 'utf8');
    for (const out of ['twilio_voice_webhook_url', 'twilio_status_callback_url']) {
      const path = /\}(\/[\w/]+)$/.exec(str(tf.outputs.get(out)?.value))?.[1];
      expect(path).toBeTruthy();
      expect(routes).toContain(`.post('${path}'`);
    }
  });

  it('creates the Cloudflare TURN key only when Cloudflare is the TURN provider', () => {
    const key = mustGet(tf.resources, 'cloudflare_calls_turn_app.edge');
    expect(key.count).toBe('${var.turn_provider == "cloudflare" ? 1 : 0}');
    expect(str(tf.locals.get('edge_secret_names'))).toContain('var.turn_provider == "cloudflare" ? ["CLOUDFLARE_TURN_KEY_ID", "CLOUDFLARE_TURN_KEY_API_TOKEN"]');
    expect(tf.outputs.get('edge_secrets')?.sensitive).toBe(true);
  });
});

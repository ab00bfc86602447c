import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateTemplate } from './terraform-expr.ts';
import { INFRA, attachedDocument, context, ref, statements, str, tf, validationErrors } from './terraform-fixture.ts';
import { allReferences, blocks, mustGet, type Body } from './terraform-model.ts';

const BUCKET = 'aws_s3_bucket.recordings';
const KEY = 'aws_kms_key.recordings';
const bucketId = ref(`${BUCKET}[0].id`);

/** Evaluates an expression with variables from the example tfvars over `vars`. */
const evaluate = (expr: unknown, vars: Record<string, unknown> = {}) => evaluateTemplate(str(expr), context(vars));

/** Every resource and data source recordings.tf declares, as `resource type.name` / `data type.name` -> body. */
function recordingDeclarations(): [string, Body][] {
  const raw = tf.raw.get('recordings.tf') ?? {};
  const out: [string, Body][] = [];
  for (const kind of ['resource', 'data'] as const) {
    for (const [type, named] of Object.entries((raw[kind] ?? {}) as Record<string, Record<string, Body[]>>)) {
      for (const [name, bodies] of Object.entries(named)) out.push([`${kind} ${type}.${name}`, bodies[0] ?? {}]);
    }
  }
  return out;
}

describe('call recordings bucket', () => {
  it('blocks all public access and enforces bucket-owner object ownership (no ACLs)', () => {
    const pab = mustGet(tf.resources, 'aws_s3_bucket_public_access_block.recordings');
    expect(pab.bucket).toBe(bucketId);
    for (const k of ['block_public_acls', 'ignore_public_acls', 'block_public_policy', 'restrict_public_buckets']) expect(pab[k], k).toBe(true);
    const ownership = mustGet(tf.resources, 'aws_s3_bucket_ownership_controls.recordings');
    expect(ownership.bucket).toBe(bucketId);
    expect(blocks(ownership, 'rule')).toEqual([{ object_ownership: 'BucketOwnerEnforced' }]);
    expect(mustGet(tf.resources, BUCKET).force_destroy).toBe(false);
  });

  it('encrypts by default with a dedicated, rotating KMS key, or SSE-S3 when recordings_kms is false', () => {
    const sse = mustGet(tf.resources, 'aws_s3_bucket_server_side_encryption_configuration.recordings');
    expect(sse.bucket).toBe(bucketId);
    const [rule] = blocks(sse, 'rule');
    const [byDefault] = blocks(rule, 'apply_server_side_encryption_by_default');
    expect(tf.variables.get('recordings_kms')?.default).toBe(true);
    expect(evaluate(byDefault?.sse_algorithm)).toBe('aws:kms');
    expect(evaluate(byDefault?.sse_algorithm, { recordings_kms: false })).toBe('AES256');
    expect(byDefault?.kms_master_key_id).toBe(ref(`local.recordings_kms ? ${KEY}[0].arn : null`));
    expect(evaluate(rule?.bucket_key_enabled)).toBe(true);

    const key = mustGet(tf.resources, KEY);
    expect(key.enable_key_rotation).toBe(true);
    expect(key.policy).toBeUndefined(); // the default policy: use is granted by IAM, to the task role only
    for (const address of [KEY, 'aws_kms_alias.recordings']) {
      const count = mustGet(tf.resources, address).count;
      expect(evaluate(count), address).toBe(1);
      expect(evaluate(count, { recordings_kms: false }), address).toBe(0);
      expect(evaluate(count, { recordings_enabled: false }), address).toBe(0);
    }
  });

  it('expires recordings after recording_retention_days and aborts incomplete multipart uploads after a day', () => {
    const lc = mustGet(tf.resources, 'aws_s3_bucket_lifecycle_configuration.recordings');
    expect(lc.bucket).toBe(bucketId);
    const rules = blocks(lc, 'rule');
    for (const r of rules) expect(r.status).toBe('Enabled');

    const expire = rules.filter((r) => blocks(r, 'expiration').length > 0);
    expect(expire).toHaveLength(1);
    expect(blocks(expire[0], 'filter')).toEqual([{ prefix: ref('local.recording_prefix') }]);
    expect(tf.locals.get('recording_prefix')).toBe('recordings/');
    expect(blocks(expire[0], 'expiration')).toEqual([{ days: ref('var.recording_retention_days') }]);
    expect(tf.variables.get('recording_retention_days')?.default).toBe(90);

    const abort = rules.flatMap((r) => blocks(r, 'abort_incomplete_multipart_upload').map((a) => ({ rule: r, a })));
    expect(abort).toHaveLength(1);
    expect(abort[0]?.a.days_after_initiation).toBe(1);
    // Bucket-wide: an upload left anywhere is aborted.
    expect(blocks(abort[0]?.rule, 'filter')).toEqual([{}]);

    // Small objects kept 90 days: no transition to a class with a minimum size and storage time.
    expect(rules.flatMap((r) => blocks(r, 'transition'))).toEqual([]);

    expect(validationErrors('recording_retention_days', 1)).toEqual([]);
    expect(validationErrors('recording_retention_days', 0)).toHaveLength(1);
    expect(validationErrors('recording_retention_days', 1.5)).toHaveLength(1);
  });

  it('denies every request not made over TLS, and nothing else', () => {
    const policy = mustGet(tf.resources, 'aws_s3_bucket_policy.recordings');
    expect(policy.bucket).toBe(bucketId);
    expect(policy.depends_on).toEqual([ref('aws_s3_bucket_public_access_block.recordings')]);
    const doc = attachedDocument('aws_s3_bucket_policy.recordings');
    const all = statements(doc);
    expect(all).toHaveLength(1);
    const [s] = all;
    expect(s?.effect).toBe('Deny');
    expect(s?.actions).toEqual(['s3:*']);
    expect(s?.resources).toEqual([ref(`${BUCKET}[0].arn`), `${ref(`${BUCKET}[0].arn`)}/*`]);
    expect(blocks(s, 'principals')).toEqual([{ type: '*', identifiers: ['*'] }]);
    expect(blocks(s, 'condition')).toEqual([{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }]);
  });

  it('versioning is off unless recordings_versioning is set', () => {
    const v = mustGet(tf.resources, 'aws_s3_bucket_versioning.recordings');
    expect(tf.variables.get('recordings_versioning')?.default).toBe(false);
    expect(evaluate(v.count)).toBe(0);
    expect(evaluate(v.count, { recordings_versioning: true })).toBe(1);
    expect(evaluate(v.count, { recordings_versioning: true, recordings_enabled: false })).toBe(0);
  });

  it("is named after the deployment, account and region by default, within S3's limits", () => {
    const ctx = context();
    const name = (vars: Record<string, unknown>) => {
      const c = context(vars);
      const local = (n: string) => (n === 'account_id' ? '123456789012' : c.local(n));
      return evaluateTemplate(str(tf.locals.get('recordings_bucket')), { ...c, local });
    };
    expect(mustGet(tf.resources, BUCKET).bucket).toBe(ref('local.recordings_bucket'));
    expect(name({})).toBe(`${str(ctx.variable('name'))}-recordings-123456789012-${str(ctx.variable('aws_region'))}`);
    expect(name({ recordings_bucket_name: 'acme-call-audio' })).toBe('acme-call-audio');
    const pre = blocks(blocks(mustGet(tf.resources, BUCKET), 'lifecycle')[0], 'precondition');
    expect(pre.map((p) => p.condition)).toEqual([ref('length(local.recordings_bucket) <= 63')]);
    expect(validationErrors('recordings_bucket_name', '')).toEqual([]);
    expect(validationErrors('recordings_bucket_name', 'acme-call-audio')).toEqual([]);
    for (const bad of ['Acme', 'acme.calls', 'a', 'acme-', 'x'.repeat(64)]) expect(validationErrors('recordings_bucket_name', bad), bad).toHaveLength(1);
  });
});

describe('call recordings access', () => {
  it('the task role may only put and abort uploads under recordings/, and use the key for them through S3', () => {
    const policy = mustGet(tf.resources, 'aws_iam_role_policy.task_recordings');
    expect(policy.role).toBe(ref('aws_iam_role.task.id'));
    const doc = attachedDocument('aws_iam_role_policy.task_recordings');
    const all = statements(doc);
    expect(all.every((s) => s.effect === undefined || s.effect === 'Allow')).toBe(true);

    const s3 = all.filter((s) => (s.actions as string[]).some((a) => a.startsWith('s3:')));
    expect(s3).toHaveLength(1);
    expect([...(s3[0]?.actions as string[])].sort()).toEqual(['s3:AbortMultipartUpload', 's3:PutObject']);
    // Objects under the prefix only: not the bucket itself (no list), not the whole bucket.
    expect(s3[0]?.resources).toEqual([`${ref(`${BUCKET}[0].arn`)}/${ref('local.recording_prefix')}*`]);
    expect(blocks(s3[0], 'condition')).toEqual([]);

    const kms = all.filter((s) => (s.actions as string[]).some((a) => a.startsWith('kms:')));
    expect(kms).toHaveLength(1);
    expect([...(kms[0]?.actions as string[])].sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(kms[0]?.resources).toEqual([ref(`${KEY}[0].arn`)]);
    expect(blocks(kms[0], 'condition')).toEqual([{ test: 'StringEquals', variable: 'kms:ViaService', values: ['s3.${var.aws_region}.amazonaws.com'] }]);
    // The key statement exists only with the key.
    const dyn = blocks(doc, 'dynamic').flatMap((d) => blocks(d, 'statement'));
    expect(dyn).toHaveLength(1);
    expect(evaluate(dyn[0]?.for_each)).toEqual([1]);
    expect(evaluate(dyn[0]?.for_each, { recordings_kms: false })).toEqual([]);

    expect(all).toHaveLength(2);
  });

  it('grants s3:* nowhere, and nothing on the recordings to anyone but the task role', () => {
    for (const [name, doc] of tf.data) {
      if (!name.startsWith('aws_iam_policy_document.')) continue;
      for (const s of statements(doc)) {
        const actions = s.actions as string[];
        if (s.effect === 'Deny') continue;
        for (const a of actions) expect(a.startsWith('s3:') && a.includes('*'), `${name}: ${a}`).toBe(false);
      }
      const touches = JSON.stringify(doc).includes(BUCKET) || JSON.stringify(doc).includes(KEY);
      if (touches) expect(['aws_iam_policy_document.task_recordings', 'aws_iam_policy_document.recordings_bucket'], name).toContain(name);
    }
    // The bucket policy only denies; every allow is the task role's.
    expect(statements(mustGet(tf.data, 'aws_iam_policy_document.recordings_bucket')).map((s) => s.effect)).toEqual(['Deny']);
    const edge = JSON.stringify(attachedDocument('aws_iam_user_policy.edge'));
    const execution = JSON.stringify(attachedDocument('aws_iam_role_policy.execution'));
    for (const doc of [edge, execution]) expect(doc).not.toMatch(/s3:|kms:|recordings/);
  });

  it('hands the worker RECORDING_BUCKET and RECORDING_PREFIX, empty when recording is off', () => {
    const containers = str(mustGet(tf.resources, 'aws_ecs_task_definition.worker').container_definitions);
    expect(containers).toContain('environment = [for k, v in merge(local.worker_environment, local.recording_environment) : { name = k, value = v }]');
    const env = (vars: Record<string, unknown> = {}) => {
      const raw = tf.locals.get('recording_environment') as Record<string, string>;
      return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, evaluate(v, vars)]));
    };
    expect(env()).toEqual({ RECORDING_BUCKET: 'switchboard-recordings-123456789012-us-east-1', RECORDING_PREFIX: 'recordings/' });
    expect((tf.locals.get('recording_environment') as Record<string, string>).RECORDING_BUCKET).toContain(`${BUCKET}[0].bucket`);
    // The worker's convention: an empty value means unset.
    expect(env({ recordings_enabled: false })).toEqual({ RECORDING_BUCKET: '', RECORDING_PREFIX: '' });
    // Not also set by the worker's own environment (merge() would let one silently win).
    expect(Object.keys(tf.locals.get('worker_environment') as object)).not.toContain('RECORDING_BUCKET');
  });

  it('recordings_enabled = false creates no bucket, key, policy or grant', () => {
    expect(tf.variables.get('recordings_enabled')?.default).toBe(true);
    const declared = recordingDeclarations();
    expect(declared.length).toBeGreaterThanOrEqual(10);
    for (const [address, body] of declared) {
      expect(body.count, `${address} has a count`).toBeDefined();
      expect(body.for_each, address).toBeUndefined();
      expect(evaluate(body.count, { recordings_enabled: false }), address).toBe(0);
    }
    for (const address of [BUCKET, 'aws_s3_bucket_policy.recordings', 'aws_iam_role_policy.task_recordings', 'aws_s3_bucket_lifecycle_configuration.recordings']) {
      expect(evaluate(mustGet(tf.resources, address).count), address).toBe(1);
    }
    // Outside recordings.tf, the recording resources are read only where their absence is handled:
    // the worker's environment (a conditional) and the outputs (null when absent).
    const inFile = new Set(declared.map(([a]) => a));
    const outside = allReferences(tf)
      .filter((r) => (r.kind === 'resource' || r.kind === 'data') && inFile.has(`${r.kind} ${r.name}`))
      .filter((r) => !inFile.has(r.where));
    expect([...new Set(outside.map((r) => r.where))].sort()).toEqual([
      'local recording_environment',
      'output recordings_bucket_arn',
      'output recordings_bucket_name',
      'output recordings_kms_key_arn',
    ]);
    for (const out of ['recordings_bucket_name', 'recordings_bucket_arn', 'recordings_kms_key_arn']) {
      expect(str(tf.outputs.get(out)?.value), out).toMatch(/^\$\{one\(aws_(s3_bucket|kms_key)\.recordings\[\*\]\.(bucket|arn)\)\}$/);
    }
  });

  it('documents the recording settings in the README', async () => {
    const readme = await readFile(join(INFRA, 'README.md'), 'utf8');
    for (const v of ['recordings_enabled', 'recordings_kms', 'recording_retention_days', 'RECORDING_BUCKET', 'recordings/']) expect(readme).toContain(v);
  });
});

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { describe, expect, it } from 'vitest';
import { INFRA, str, tf } from './terraform-fixture.ts';
import { blocks, type Body } from './terraform-model.ts';

const backends = () => tf.terraform.flatMap((t) => blocks(t, 'backend'));

describe('Terraform state', () => {
  it('lives in S3, encrypted and locked with a lock file, on a Terraform that supports it', () => {
    const all = backends();
    expect(all).toHaveLength(1);
    const s3 = blocks(all[0], 's3');
    expect(s3).toHaveLength(1);
    expect(s3[0]?.encrypt).toBe(true);
    expect(s3[0]?.use_lockfile).toBe(true);
    // use_lockfile arrived in Terraform 1.10.
    const [major = 0, minor = 0] = (/>= (\d+)\.(\d+)/.exec(str(tf.terraform[0]?.required_version)) ?? []).slice(1).map(Number);
    expect(major * 1000 + minor).toBeGreaterThanOrEqual(1010);
  });

  it('commits no account details: bucket, key and region come from a partial config', () => {
    const s3 = blocks(backends()[0], 's3')[0] ?? {};
    expect(Object.keys(s3).sort()).toEqual(['encrypt', 'use_lockfile']);
  });

  it('ships an example partial config that names what the backend needs and nothing it fixes', async () => {
    const example = (await parse('backend.hcl.example', await readFile(join(INFRA, 'backend.hcl.example'), 'utf8'))) as Body;
    expect(Object.keys(example).sort()).toEqual(['bucket', 'key', 'region']);
    for (const v of Object.values(example)) expect(typeof v).toBe('string');
    // A lock table would be a second, older locking scheme next to use_lockfile.
    expect(example).not.toHaveProperty('dynamodb_table');
  });

  it('keeps local state, the filled-in backend config and tfvars out of git', async () => {
    const ignore = (await readFile(join(INFRA, '.gitignore'), 'utf8')).split('\n').map((l) => l.trim());
    for (const p of ['backend.hcl', 'terraform.tfvars', '*.tfstate', '.terraform/']) expect(ignore).toContain(p);
    expect(existsSync(join(INFRA, 'backend.hcl'))).toBe(false);
  });

  it('documents the bootstrap of the state bucket: versioned, encrypted, private, before init', async () => {
    const readme = await readFile(join(INFRA, 'README.md'), 'utf8');
    for (const s of ['-backend-config=backend.hcl', 'put-bucket-versioning', 'put-bucket-encryption', 'put-public-access-block']) {
      expect(readme).toContain(s);
    }
  });
});

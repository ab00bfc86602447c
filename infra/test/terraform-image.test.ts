import { describe, expect, it } from 'vitest';
import { evaluateTemplate } from './terraform-expr.ts';
import { context, ref, str, tf, validationErrors } from './terraform-fixture.ts';
import { mustGet } from './terraform-model.ts';

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;
const REPO = '123456789012.dkr.ecr.us-east-1.amazonaws.com/switchboard/media-worker';

/** The image reference the task definition gets for these variables. */
const image = (vars: Record<string, unknown>) => evaluateTemplate(str(tf.locals.get('image')), context(vars));

describe('worker image', () => {
  it('comes from an ECR repository whose tags cannot be moved', () => {
    expect(mustGet(tf.resources, 'aws_ecr_repository.worker').image_tag_mutability).toBe('IMMUTABLE');
    expect(str(mustGet(tf.resources, 'aws_ecs_task_definition.worker').container_definitions)).toContain('image     = local.image');
  });

  it('is the pushed tag or digest in the module repository, or a pinned external image', () => {
    expect(image({ worker_image_tag: 'git-0123abc' })).toBe(`${REPO}:git-0123abc`);
    expect(image({ worker_image_tag: DIGEST })).toBe(`${REPO}@${DIGEST}`);
    expect(image({ worker_image: `ghcr.io/acme/worker@${DIGEST}`, worker_image_tag: '' })).toBe(`ghcr.io/acme/worker@${DIGEST}`);
  });

  it("refuses 'latest' and a missing tag, in either variable", () => {
    expect(validationErrors('worker_image_tag', 'latest')).toHaveLength(1);
    expect(validationErrors('worker_image_tag', '')).toHaveLength(1);
    expect(validationErrors('worker_image_tag', 'v1/evil')).toHaveLength(1);
    expect(validationErrors('worker_image', 'ghcr.io/acme/worker:latest')).toHaveLength(1);
    expect(validationErrors('worker_image', 'ghcr.io/acme/worker')).toHaveLength(1);
    expect(validationErrors('worker_image', 'registry.local:5000/worker')).toHaveLength(1);
    expect(validationErrors('worker_image', 'ghcr.io/acme/worker@sha256:abc')).toHaveLength(1);
  });

  it('accepts immutable tags and digests', () => {
    expect(validationErrors('worker_image_tag', 'git-0123abc')).toEqual([]);
    expect(validationErrors('worker_image_tag', 'v1.4.2')).toEqual([]);
    expect(validationErrors('worker_image_tag', DIGEST)).toEqual([]);
    expect(validationErrors('worker_image', `ghcr.io/acme/worker@${DIGEST}`)).toEqual([]);
    expect(validationErrors('worker_image', 'registry.local:5000/worker:v2')).toEqual([]);
    expect(validationErrors('worker_image', `ghcr.io/acme/worker:v2@${DIGEST}`)).toEqual([]);
    // An external image makes the module repository's tag irrelevant.
    expect(validationErrors('worker_image_tag', '', { worker_image: `ghcr.io/acme/worker@${DIGEST}` })).toEqual([]);
  });

  it('the example tfvars passes every validation', () => {
    for (const name of tf.variables.keys()) {
      expect(validationErrors(name, context().variable(name)), `variable ${name}`).toEqual([]);
    }
  });

  it('outputs the image the tasks run', () => {
    expect(tf.outputs.get('worker_image')?.value).toBe(ref('local.image'));
  });
});

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateTemplate } from './terraform-expr.ts';
import { INFRA, actionsOf, attachedDocument, context, ref, statements, str, tf, validationErrors } from './terraform-fixture.ts';
import { blocks, mustGet } from './terraform-model.ts';

describe('IAM least privilege', () => {
  it('attaches no managed policies and no hand-written policy JSON', () => {
    const attachments = [...tf.resources.keys()].filter((a) => /^aws_iam_\w+_policy_attachment\./.test(a));
    expect(attachments).toEqual([]);
    const inline = [...tf.resources.keys()].filter((a) => /^aws_iam_(user|role|group)_policy\./.test(a));
    expect(inline.sort()).toEqual([
      'aws_iam_role_policy.execution',
      'aws_iam_role_policy.task',
      'aws_iam_role_policy.task_recordings',
      'aws_iam_user_policy.edge',
    ]);
    for (const a of inline) attachedDocument(a);
  });

  it('grants no wildcard action, and a wildcard resource only where AWS has no resource-level permission', () => {
    for (const [name, doc] of tf.data) {
      if (!name.startsWith('aws_iam_policy_document.')) continue;
      // A Deny grants nothing: the recordings bucket's TLS guard denies s3:* on purpose
      // (terraform-recordings.test.ts holds it to exactly that).
      for (const s of statements(doc).filter((st) => st.effect !== 'Deny')) {
        for (const a of (s.actions as string[]) ?? []) expect(a, `${name}`).not.toContain('*');
        if ((s.resources as unknown) === undefined) continue;
        if (JSON.stringify(s.resources).includes('"*"')) expect(s.actions).toEqual(['ecr:GetAuthorizationToken']);
      }
    }
  });

  it('the edge may only send messages to the job queue', () => {
    expect(str(mustGet(tf.resources, 'aws_iam_user_policy.edge').user)).toBe(ref('aws_iam_user.edge.name'));
    const doc = attachedDocument('aws_iam_user_policy.edge');
    expect(statements(doc).map((s) => ({ actions: s.actions, resources: s.resources }))).toEqual([
      { actions: ['sqs:SendMessage'], resources: [ref('aws_sqs_queue.jobs.arn')] },
    ]);
    expect(str(mustGet(tf.resources, 'aws_iam_access_key.edge').user)).toBe(ref('aws_iam_user.edge.name'));
  });

  it('the edge has two access keys, and edge_key_active picks the one the edge gets', () => {
    const keys = mustGet(tf.resources, 'aws_iam_access_key.edge');
    expect(keys.for_each).toBe(ref('toset(["a", "b"])'));
    const keyResources = [...tf.resources.keys()].filter((a) => a.startsWith('aws_iam_access_key.'));
    expect(keyResources).toEqual(['aws_iam_access_key.edge']); // IAM allows two keys per user
    const secrets = tf.locals.get('edge_secret_values') as Record<string, string>;
    expect(secrets.AWS_ACCESS_KEY_ID).toBe(ref('aws_iam_access_key.edge[var.edge_key_active].id'));
    expect(secrets.AWS_SECRET_ACCESS_KEY).toBe(ref('aws_iam_access_key.edge[var.edge_key_active].secret'));
    expect(validationErrors('edge_key_active', 'a')).toEqual([]);
    expect(validationErrors('edge_key_active', 'b')).toEqual([]);
    expect(validationErrors('edge_key_active', 'c')).toHaveLength(1);
    // An existing single key becomes key "a" instead of being destroyed.
    const moved = [...tf.raw.values()].flatMap((f) => (f.moved ?? []) as { from: string; to: string }[]);
    expect(moved).toContainEqual({ from: ref('aws_iam_access_key.edge'), to: ref('aws_iam_access_key.edge["a"]') });
  });

  it('documents how to rotate the edge key without downtime', async () => {
    const readme = await readFile(join(INFRA, 'README.md'), 'utf8');
    expect(readme).toContain('edge_key_active');
    expect(readme).toContain("-replace='aws_iam_access_key.edge[");
    expect(readme).toContain('wrangler secret bulk');
  });

  it('the task role may only receive, delete and re-time jobs, and protect its own task', () => {
    const td = mustGet(tf.resources, 'aws_ecs_task_definition.worker');
    expect(td.task_role_arn).toBe(ref('aws_iam_role.task.arn'));
    expect(str(mustGet(tf.resources, 'aws_iam_role_policy.task').role)).toBe(ref('aws_iam_role.task.id'));
    const doc = attachedDocument('aws_iam_role_policy.task');
    expect(actionsOf(doc).sort()).toEqual([
      'ecs:GetTaskProtection',
      'ecs:UpdateTaskProtection',
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:ReceiveMessage',
    ]);
    for (const s of statements(doc)) {
      const actions = s.actions as string[];
      if (actions.some((a) => a.startsWith('sqs:'))) expect(s.resources).toEqual([ref('aws_sqs_queue.jobs.arn')]);
      else expect(s.resources).toEqual(['arn:${local.partition}:ecs:${var.aws_region}:${local.account_id}:task/${local.cluster_name}/*']);
    }
  });

  it("scopes task protection to this cluster's tasks", () => {
    const doc = attachedDocument('aws_iam_role_policy.task');
    const ecs = statements(doc).filter((s) => (s.actions as string[]).some((a) => a.startsWith('ecs:')));
    expect(ecs).toHaveLength(1);
    const ctx = context();
    const resolve = (name: string) => ({ account_id: '123456789012', partition: 'aws' })[name] ?? ctx.local(name);
    const arn = evaluateTemplate(str((ecs[0]?.resources as string[])[0]), { ...ctx, local: resolve });
    expect(arn).toBe('arn:aws:ecs:us-east-1:123456789012:task/switchboard-media/*');
    expect(mustGet(tf.resources, 'aws_ecs_cluster.media').name).toBe(ref('local.cluster_name'));
  });

  it('the execution role may only pull the image, write logs and read the handler secrets', () => {
    const td = mustGet(tf.resources, 'aws_ecs_task_definition.worker');
    expect(td.execution_role_arn).toBe(ref('aws_iam_role.execution.arn'));
    const doc = attachedDocument('aws_iam_role_policy.execution');
    expect(actionsOf(doc).sort()).toEqual([
      'ecr:BatchCheckLayerAvailability',
      'ecr:BatchGetImage',
      'ecr:GetAuthorizationToken',
      'ecr:GetDownloadUrlForLayer',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'ssm:GetParameters',
    ]);
  });

  it('only ECS tasks of this account may assume the roles', () => {
    for (const role of ['aws_iam_role.task', 'aws_iam_role.execution']) {
      expect(mustGet(tf.resources, role).assume_role_policy).toBe(ref('data.aws_iam_policy_document.ecs_tasks_assume.json'));
    }
    const [s] = statements(mustGet(tf.data, 'aws_iam_policy_document.ecs_tasks_assume'));
    expect(s?.actions).toEqual(['sts:AssumeRole']);
    expect(blocks(s, 'principals')).toEqual([{ type: 'Service', identifiers: ['ecs-tasks.amazonaws.com'] }]);
    expect(blocks(s, 'condition').map((c) => c.variable)).toEqual(['aws:SourceAccount', 'aws:SourceArn']);
  });
});

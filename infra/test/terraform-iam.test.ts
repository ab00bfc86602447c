import { describe, expect, it } from 'vitest';
import { actionsOf, attachedDocument, ref, statements, str, tf } from './terraform-fixture.ts';
import { blocks, mustGet } from './terraform-model.ts';

describe('IAM least privilege', () => {
  it('attaches no managed policies and no hand-written policy JSON', () => {
    const attachments = [...tf.resources.keys()].filter((a) => /^aws_iam_\w+_policy_attachment\./.test(a));
    expect(attachments).toEqual([]);
    const inline = [...tf.resources.keys()].filter((a) => /^aws_iam_(user|role|group)_policy\./.test(a));
    expect(inline.sort()).toEqual(['aws_iam_role_policy.execution', 'aws_iam_role_policy.task', 'aws_iam_user_policy.edge']);
    for (const a of inline) attachedDocument(a);
  });

  it('grants no wildcard action, and a wildcard resource only where AWS has no resource-level permission', () => {
    for (const [name, doc] of tf.data) {
      if (!name.startsWith('aws_iam_policy_document.')) continue;
      for (const s of statements(doc)) {
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
    const secrets = tf.locals.get('edge_secret_values') as Record<string, string>;
    expect(secrets.AWS_ACCESS_KEY_ID).toBe(ref('aws_iam_access_key.edge.id'));
  });

  it('the task role may only receive, delete and re-time jobs, and protect its own task', () => {
    const td = mustGet(tf.resources, 'aws_ecs_task_definition.worker');
    expect(td.task_role_arn).toBe(ref('aws_iam_role.task.arn'));
    expect(str(mustGet(tf.resources, 'aws_iam_role_policy.task').role)).toBe(ref('aws_iam_role.task.id'));
    const doc = attachedDocument('aws_iam_role_policy.task');
    expect(actionsOf(doc).sort()).toEqual(['ecs:UpdateTaskProtection', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:ReceiveMessage']);
    for (const s of statements(doc)) {
      const actions = s.actions as string[];
      if (actions.some((a) => a.startsWith('sqs:'))) expect(s.resources).toEqual([ref('aws_sqs_queue.jobs.arn')]);
      else expect(str(s.resources)).toContain(':task/${local.cluster_name}/*');
    }
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

import { describe, expect, it } from 'vitest';
import { parseTerraform, referencesInText, unresolvedReferences } from './terraform-model.ts';

describe('terraform reference checker', () => {
  it('reports references to undeclared variables, locals, data sources and resources', async () => {
    const m = await parseTerraform({
      'main.tf': `
        variable "name" {
          type        = string
          description = "x"
        }
        locals {
          arn = aws_sqs_queue.jobs.arn
        }
        resource "aws_sqs_queue" "jobs" {
          name = "\${var.name}-\${var.missing}"
          tags = { a = local.nope, b = data.aws_vpc.gone.id, c = aws_sqs_queue.ghost.arn }
        }
      `,
    });
    expect(unresolvedReferences(m).sort()).toEqual([
      'resource aws_sqs_queue.jobs: aws_sqs_queue.ghost is not declared',
      'resource aws_sqs_queue.jobs: data.aws_vpc.gone is not declared',
      'resource aws_sqs_queue.jobs: local.nope is not declared',
      'resource aws_sqs_queue.jobs: var.missing is not declared',
    ]);
  });

  it('ignores for-expression iterators, meta-arguments and plain text', () => {
    const refs = referencesInText('${[for p in aws_ssm_parameter.s : p.arn]} ${{ for k, v in local.m : k => v.x if each.key != "" }}', 'w');
    expect(refs.map((r) => `${r.kind}:${r.name}`)).toEqual(['resource:aws_ssm_parameter.s', 'local:m']);
    expect(referencesInText('ecs-tasks.amazonaws.com', 'w')).toEqual([]);
    expect(referencesInText('${local.values[k]} and ${one(cloudflare_calls_turn_app.edge[*].uid)}', 'w').map((r) => r.name)).toEqual([
      'values',
      'cloudflare_calls_turn_app.edge',
    ]);
  });

  it('refuses a configuration that declares the same resource twice', async () => {
    await expect(
      parseTerraform({ 'a.tf': 'resource "aws_sqs_queue" "q" {}', 'b.tf': 'resource "aws_sqs_queue" "q" {}' }),
    ).rejects.toThrow(/aws_sqs_queue.q is declared twice/);
  });
});

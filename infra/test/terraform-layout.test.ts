import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../workers/src/config.ts';
import { example, str, tf } from './terraform-fixture.ts';
import { allReferences, blocks, mustGet, unresolvedReferences } from './terraform-model.ts';

describe('infra/ layout', () => {
  it('has the conventional files, an example tfvars, and pinned providers', () => {
    for (const f of ['main.tf', 'variables.tf', 'outputs.tf', 'versions.tf']) expect(tf.files).toContain(f);
    const tfBlock = tf.terraform[0] ?? {};
    expect(str(tfBlock.required_version)).toMatch(/^>= 1\.\d+/);
    const providers = (blocks(tfBlock, 'required_providers')[0] ?? {}) as Record<string, { source: string; version: string }>;
    expect(Object.keys(providers).sort()).toEqual(['aws', 'cloudflare', 'random']);
    for (const p of Object.values(providers)) expect(p.version).toMatch(/^~> \d+\.\d+/);
  });

  it('types and describes every variable, and uses each one', () => {
    const used = new Set(allReferences(tf).filter((r) => r.kind === 'var').map((r) => r.name));
    for (const [name, v] of tf.variables) {
      expect(v.type, `variable ${name} has a type`).toBeTruthy();
      expect(str(v.description ?? '').length, `variable ${name} has a description`).toBeGreaterThan(10);
      expect(used.has(name), `variable ${name} is used`).toBe(true);
    }
  });

  it('uses every local', () => {
    const used = new Set(allReferences(tf).filter((r) => r.kind === 'local').map((r) => r.name));
    expect([...tf.locals.keys()].filter((l) => !used.has(l))).toEqual([]);
  });

  it('the example tfvars sets only declared variables, and every variable without a default', () => {
    expect(Object.keys(example).filter((k) => !tf.variables.has(k))).toEqual([]);
    const required = [...tf.variables].filter(([, v]) => !('default' in v)).map(([n]) => n);
    expect(required.length).toBeGreaterThan(0);
    for (const n of required) expect(example, `example sets ${n}`).toHaveProperty(n);
  });

  it('every reference resolves to a declared variable, local, data source or resource', () => {
    expect(allReferences(tf).length).toBeGreaterThan(50);
    expect(unresolvedReferences(tf)).toEqual([]);
  });
});

describe('job queue', () => {
  it('redrives to a dead-letter queue that allows only this queue', () => {
    const jobs = mustGet(tf.resources, 'aws_sqs_queue.jobs');
    const redrive = str(jobs.redrive_policy);
    expect(redrive).toContain('deadLetterTargetArn = aws_sqs_queue.jobs_dlq.arn');
    expect(redrive).toMatch(/maxReceiveCount\s*=\s*\d+/);
    mustGet(tf.resources, 'aws_sqs_queue.jobs_dlq');
    const allow = str(mustGet(tf.resources, 'aws_sqs_queue_redrive_allow_policy.jobs_dlq').redrive_allow_policy);
    expect(allow).toContain('sourceQueueArns   = [aws_sqs_queue.jobs.arn]');
    expect(str(mustGet(tf.resources, 'aws_cloudwatch_metric_alarm.jobs_dead_lettered').dimensions)).toContain('aws_sqs_queue.jobs_dlq.name');
  });

  it('re-delivers a job a dead worker held while its caller still waits, and drops jobs callers gave up on', () => {
    const jobs = mustGet(tf.resources, 'aws_sqs_queue.jobs');
    const edge = loadConfig({});
    const visibilityMs = Number(jobs.visibility_timeout_seconds) * 1000;
    const retentionMs = Number(jobs.message_retention_seconds) * 1000;
    expect(visibilityMs).toBeLessThan(edge.CLAIM_TIMEOUT_MS);
    expect(retentionMs).toBeGreaterThanOrEqual(60_000); // SQS's minimum
    expect(retentionMs).toBeGreaterThan(edge.PHONE_WAIT_MS);
    expect(retentionMs).toBeLessThanOrEqual(300_000);
  });
});

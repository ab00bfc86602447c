import { describe, expect, it } from 'vitest';
import { evaluateTemplate } from './terraform-expr.ts';
import { context, ref, str, tf, validationErrors } from './terraform-fixture.ts';
import { mustGet } from './terraform-model.ts';

describe('dead-letter alarm', () => {
  it('notifies an SNS topic this configuration creates, on alarm and on recovery', () => {
    mustGet(tf.resources, 'aws_sns_topic.alarms');
    const alarm = mustGet(tf.resources, 'aws_cloudwatch_metric_alarm.jobs_dead_lettered');
    expect(alarm.alarm_actions).toEqual([ref('aws_sns_topic.alarms.arn')]);
    expect(alarm.ok_actions).toEqual([ref('aws_sns_topic.alarms.arn')]);
    expect(tf.outputs.get('alarm_topic_arn')?.value).toBe(ref('aws_sns_topic.alarms.arn'));
  });

  it('subscribes alarm_email by email only when it is set', () => {
    const sub = mustGet(tf.resources, 'aws_sns_topic_subscription.alarm_email');
    expect(sub.topic_arn).toBe(ref('aws_sns_topic.alarms.arn'));
    expect(sub.protocol).toBe('email');
    expect(sub.endpoint).toBe(ref('var.alarm_email'));
    expect(tf.variables.get('alarm_email')?.default).toBe('');
    expect(evaluateTemplate(str(sub.count), context({ alarm_email: '' }))).toBe(0);
    expect(evaluateTemplate(str(sub.count), context({ alarm_email: 'ops@example.com' }))).toBe(1);
  });

  it('accepts an email address or nothing as alarm_email', () => {
    expect(validationErrors('alarm_email', '')).toEqual([]);
    expect(validationErrors('alarm_email', 'ops@example.com')).toEqual([]);
    expect(validationErrors('alarm_email', 'ops')).toHaveLength(1);
    expect(validationErrors('alarm_email', 'ops@example.com, me@example.com')).toHaveLength(1);
  });
});

import { describe, expect, it } from 'vitest';
import { UtilizationPublisher } from '../../media-worker/src/ecs/emf-utilization.ts';
import { ref, tf } from './terraform-fixture.ts';
import { blocks, mustGet } from './terraform-model.ts';

describe('autoscaling', () => {
  const target = ref('aws_appautoscaling_target.worker.resource_id');

  it('scales the worker service between min_tasks and max_tasks', () => {
    const t = mustGet(tf.resources, 'aws_appautoscaling_target.worker');
    expect(t.scalable_dimension).toBe('ecs:service:DesiredCount');
    expect(t.resource_id).toBe('service/${aws_ecs_cluster.media.name}/${aws_ecs_service.worker.name}');
    expect([t.min_capacity, t.max_capacity]).toEqual([ref('var.min_tasks'), ref('var.max_tasks')]);
  });

  it('tracks the fleet utilisation metric the workers publish', () => {
    const policy = mustGet(tf.resources, 'aws_appautoscaling_policy.utilization');
    expect(policy.policy_type).toBe('TargetTrackingScaling');
    expect(policy.resource_id).toBe(target);
    const cfg = blocks(policy, 'target_tracking_scaling_policy_configuration')[0] ?? {};
    const metric = blocks(cfg, 'customized_metric_specification')[0] ?? {};
    const dims = blocks(metric, 'dimensions');

    // The worker's environment names the same namespace and dimension value...
    const env = tf.locals.get('worker_environment') as Record<string, string>;
    expect(metric.namespace).toBe(env.METRICS_NAMESPACE);
    expect(dims).toEqual([{ name: 'ServiceName', value: env.METRICS_SERVICE }]);
    expect(metric.statistic).toBe('Average');

    // ...and the worker's publisher emits that metric name and dimension.
    const lines: string[] = [];
    let sample = () => {};
    const pub = new UtilizationPublisher({
      namespace: 'ns',
      service: 'svc',
      capacity: 10,
      busy: () => 3,
      write: (l) => lines.push(l),
      timers: { setInterval: (fn) => ((sample = fn), 0), clearInterval: () => {} },
    });
    pub.start();
    sample();
    pub.stop();
    const emf = JSON.parse(lines[0] ?? '{}') as { _aws: { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] } };
    const directive = emf._aws.CloudWatchMetrics[0];
    expect(directive?.Dimensions).toEqual([['ServiceName']]);
    expect(directive?.Metrics).toContainEqual({ Name: metric.metric_name, Unit: metric.unit });
  });

  it('adds tasks on queue backlog and on the age of the oldest job, scale-out only', () => {
    for (const [alarm, metric, policy] of [
      ['backlog', 'ApproximateNumberOfMessagesVisible', 'backlog'],
      ['oldest_job', 'ApproximateAgeOfOldestMessage', 'oldest_job'],
    ] as const) {
      const a = mustGet(tf.resources, `aws_cloudwatch_metric_alarm.${alarm}`);
      expect([a.namespace, a.metric_name]).toEqual(['AWS/SQS', metric]);
      expect(a.dimensions).toEqual({ QueueName: ref('aws_sqs_queue.jobs.name') });
      expect(a.comparison_operator).toBe('GreaterThanOrEqualToThreshold');
      expect(a.alarm_actions).toEqual([ref(`aws_appautoscaling_policy.${policy}.arn`)]);
      const p = mustGet(tf.resources, `aws_appautoscaling_policy.${policy}`);
      expect([p.policy_type, p.resource_id]).toEqual(['StepScaling', target]);
      const steps = blocks(blocks(p, 'step_scaling_policy_configuration')[0], 'step_adjustment');
      expect(steps.length).toBeGreaterThan(0);
      for (const s of steps) expect(Number(s.scaling_adjustment)).toBeGreaterThan(0);
    }
  });

  it('scales out fast and in slowly', () => {
    const d = (n: string) => Number(tf.variables.get(n)?.default);
    expect(d('scale_in_cooldown_s')).toBeGreaterThanOrEqual(5 * d('scale_out_cooldown_s'));
    const backlog = mustGet(tf.resources, 'aws_cloudwatch_metric_alarm.backlog');
    expect([backlog.period, backlog.evaluation_periods]).toEqual([60, 1]);
  });
});

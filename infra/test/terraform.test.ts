import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../workers/src/config.ts';
import { loadWorkerConfig } from '../../media-worker/src/config.ts';
import { UtilizationPublisher } from '../../media-worker/src/ecs/emf-utilization.ts';
import { evaluateTemplate, type EvalContext } from './terraform-expr.ts';
import { allReferences, blocks, loadTerraform, mustGet, unresolvedReferences, type Body, type TerraformModel } from './terraform-model.ts';

const INFRA = fileURLToPath(new URL('..', import.meta.url));
const ROOT = join(INFRA, '..');

let tf: TerraformModel;
let example: Body;

beforeAll(async () => {
  tf = await loadTerraform(INFRA);
  example = (await parse('terraform.tfvars.example', await readFile(join(INFRA, 'terraform.tfvars.example'), 'utf8'))) as Body;
});

const str = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
const ref = (expr: string) => '${' + expr + '}';

/** Statements of a policy document, static and dynamic (their `content`). */
function statements(doc: Body): Body[] {
  const dynamic = blocks(doc, 'dynamic').flatMap((d) => blocks(d, 'statement').flatMap((s) => blocks(s, 'content')));
  return [...blocks(doc, 'statement'), ...dynamic];
}
const actionsOf = (doc: Body): string[] => statements(doc).flatMap((s) => s.actions as string[]);

/** The policy document a user or role policy attaches: it must be a data source's JSON. */
function attachedDocument(policyAddress: string): Body {
  const policy = str(mustGet(tf.resources, policyAddress).policy);
  const m = /^\$\{data\.aws_iam_policy_document\.([\w-]+)\.json\}$/.exec(policy);
  if (!m?.[1]) throw new Error(`${policyAddress}: policy is not a data.aws_iam_policy_document (${policy})`);
  return mustGet(tf.data, `aws_iam_policy_document.${m[1]}`);
}

/** Concrete values for variables: the example tfvars over the declared defaults. */
function context(overrides: Record<string, unknown> = {}): EvalContext {
  const ctx: EvalContext = {
    variable(name) {
      if (name in overrides) return overrides[name];
      if (name in example) return example[name];
      const v = tf.variables.get(name);
      if (!v || !('default' in v)) throw new Error(`var.${name} has no value in the example`);
      return v.default;
    },
    local(name) {
      if (!tf.locals.has(name)) throw new Error(`local.${name} is not declared`);
      return evaluateTemplate(str(tf.locals.get(name)), ctx);
    },
    attribute(address, attr) {
      if (address === 'aws_sqs_queue.jobs' && attr === 'url') return 'https://sqs.us-east-1.amazonaws.com/123456789012/switchboard-jobs';
      throw new Error(`no sample value for ${address}.${attr}`);
    },
  };
  return ctx;
}

function workerEnvironment(overrides: Record<string, unknown> = {}): Record<string, string> {
  const ctx = context(overrides);
  const env = tf.locals.get('worker_environment') as Record<string, string>;
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(evaluateTemplate(v, ctx))]));
}

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

describe('worker task', () => {
  it('runs the health check the Dockerfile runs, on a script that exists', async () => {
    const containers = str(mustGet(tf.resources, 'aws_ecs_task_definition.worker').container_definitions);
    const m = /command\s*=\s*\[([^\]]*)\]/.exec(containers);
    const ecsCommand = JSON.parse(`[${m?.[1] ?? ''}]`) as string[];
    expect(ecsCommand[0]).toBe('CMD');
    const dockerfile = await readFile(join(ROOT, 'media-worker/Dockerfile'), 'utf8');
    const hc = /^HEALTHCHECK\b.*?\bCMD\s+(\[.*\])\s*$/m.exec(dockerfile);
    expect(JSON.parse(hc?.[1] ?? 'null')).toEqual(ecsCommand.slice(1));
    const script = ecsCommand.find((a) => a.endsWith('.ts'));
    expect(script && existsSync(join(ROOT, script))).toBe(true);
  });

  it('gives the worker time to drain before ECS kills it', () => {
    const containers = str(mustGet(tf.resources, 'aws_ecs_task_definition.worker').container_definitions);
    expect(containers).toContain('stopTimeout = var.stop_timeout_s');
    const stopMs = Number(tf.variables.get('stop_timeout_s')?.default) * 1000;
    const env = workerEnvironment();
    expect(Number(env.DRAIN_TIMEOUT_MS)).toBeLessThan(stopMs);
    expect(stopMs).toBeLessThanOrEqual(120_000); // Fargate's limit
  });

  it('passes the worker only settings it knows, which it accepts, in both network modes', () => {
    const known = Object.keys(loadWorkerConfig({ SQS_QUEUE_URL: 'x' }));
    for (const mode of ['public', 'relay_only']) {
      const env = workerEnvironment({ network_mode: mode });
      expect(Object.keys(env).filter((k) => !known.includes(k))).toEqual([]);
      const config = loadWorkerConfig(env);
      expect(config.ICE_POLICY).toBe(mode === 'public' ? 'all' : 'relay');
      expect(config.PUBLIC_IP_LOOKUP_URL !== '').toBe(mode === 'public');
      expect(config.SQS_QUEUE_URL).toMatch(/^https:\/\/sqs\./);
      expect(config.PUBLIC_BASE_URL).toBe(example.edge_public_url);
      expect(config.WORKER_HTTP_HOST).toBe('127.0.0.1');
    }
  });

  it('opens inbound UDP on the RTC range only in public mode, and gives tasks public IPs only then', () => {
    const ingress = [...tf.resources.keys()].filter((a) => a.startsWith('aws_vpc_security_group_ingress_rule.'));
    expect(ingress).toEqual(['aws_vpc_security_group_ingress_rule.webrtc_udp']);
    const rule = mustGet(tf.resources, ingress[0] ?? '');
    expect(rule.ip_protocol).toBe('udp');
    expect([rule.from_port, rule.to_port]).toEqual([ref('var.rtc_port_min'), ref('var.rtc_port_max')]);
    expect(str(rule.for_each)).toMatch(/^\$\{local\.public \?/);
    const net = blocks(mustGet(tf.resources, 'aws_ecs_service.worker'), 'network_configuration')[0];
    expect(net?.assign_public_ip).toBe(ref('local.public'));
    expect(evaluateTemplate(ref('local.public'), context({ network_mode: 'relay_only' }))).toBe(false);
  });

  it('ships logs to CloudWatch without blocking the audio loop', () => {
    const containers = str(mustGet(tf.resources, 'aws_ecs_task_definition.worker').container_definitions);
    expect(containers).toContain('logDriver = "awslogs"');
    expect(containers).toContain('"mode"            = "non-blocking"');
  });
});

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

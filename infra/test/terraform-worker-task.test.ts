import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadWorkerConfig } from '../../media-worker/src/config.ts';
import { evaluateTemplate } from './terraform-expr.ts';
import { ROOT, context, example, ref, str, tf, validationErrors, workerEnvironment } from './terraform-fixture.ts';
import { blocks, mustGet } from './terraform-model.ts';

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

  it('puts every call of a task on one UDP port by default, and on a port range when rtc_udp_port is null', () => {
    const single = loadWorkerConfig(workerEnvironment());
    expect(single.RTC_UDP_PORT).toBe(50000);
    expect([single.RTC_PORT_MIN, single.RTC_PORT_MAX]).toEqual([0, 0]);
    const ports = (o: Record<string, unknown>) => [evaluateTemplate(ref('local.rtc_from_port'), context(o)), evaluateTemplate(ref('local.rtc_to_port'), context(o))];
    expect(ports({})).toEqual([50000, 50000]);
    const ranged = loadWorkerConfig(workerEnvironment({ rtc_udp_port: null }));
    expect([ranged.RTC_UDP_PORT, ranged.RTC_PORT_MIN, ranged.RTC_PORT_MAX]).toEqual([null, 40000, 40199]);
    expect(ports({ rtc_udp_port: null })).toEqual([40000, 40199]);
    const containers = str(mustGet(tf.resources, 'aws_ecs_task_definition.worker').container_definitions);
    expect(containers).toContain('containerPortRange = "${local.rtc_from_port}-${local.rtc_to_port}"');
    expect(validationErrors('rtc_udp_port', 80)).toEqual(['rtc_udp_port: inside 1024-65535, or null for the port range.']);
    expect(validationErrors('rtc_udp_port', null)).toEqual([]);
  });

  it('opens inbound UDP on the worker\'s port (or range) only in public mode, and gives tasks public IPs only then', () => {
    const ingress = [...tf.resources.keys()].filter((a) => a.startsWith('aws_vpc_security_group_ingress_rule.'));
    expect(ingress).toEqual(['aws_vpc_security_group_ingress_rule.webrtc_udp']);
    const rule = mustGet(tf.resources, ingress[0] ?? '');
    expect(rule.ip_protocol).toBe('udp');
    expect([rule.from_port, rule.to_port]).toEqual([ref('local.rtc_from_port'), ref('local.rtc_to_port')]);
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

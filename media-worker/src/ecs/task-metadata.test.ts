import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resolvePublicIp, taskNetworkFrom } from './task-metadata.ts';

/**
 * `${ECS_CONTAINER_METADATA_URI_V4}/task` as in AWS's "task metadata v4 examples for tasks on
 * Fargate" (example task metadata response). Note: no public address anywhere in it.
 */
const FARGATE_TASK = {
  Cluster: 'arn:aws:ecs:us-west-2:111122223333:cluster/default',
  TaskARN: 'arn:aws:ecs:us-west-2:111122223333:task/default/e9028f8d5d8e4f258373e7b93ce9a3c3',
  Family: 'curltest',
  Revision: '3',
  DesiredStatus: 'RUNNING',
  KnownStatus: 'RUNNING',
  Limits: { CPU: 0.25, Memory: 512 },
  PullStartedAt: '2020-10-08T20:47:16.053330955Z',
  PullStoppedAt: '2020-10-08T20:47:19.592684631Z',
  AvailabilityZone: 'us-west-2a',
  Containers: [
    {
      DockerId: 'e9028f8d5d8e4f258373e7b93ce9a3c3-2495160603',
      Name: 'curl',
      DockerName: 'curl',
      Image: '111122223333.dkr.ecr.us-west-2.amazonaws.com/curltest:latest',
      ImageID: 'sha256:25f3695bedfb454a50f12d127839a68ad3caf91e451c1da073db34c542c4d2cb',
      Labels: {
        'com.amazonaws.ecs.cluster': 'arn:aws:ecs:us-west-2:111122223333:cluster/default',
        'com.amazonaws.ecs.container-name': 'curl',
        'com.amazonaws.ecs.task-arn': 'arn:aws:ecs:us-west-2:111122223333:task/default/e9028f8d5d8e4f258373e7b93ce9a3c3',
        'com.amazonaws.ecs.task-definition-family': 'curltest',
        'com.amazonaws.ecs.task-definition-version': '3',
      },
      DesiredStatus: 'RUNNING',
      KnownStatus: 'RUNNING',
      Limits: { CPU: 10, Memory: 128 },
      CreatedAt: '2020-10-08T20:47:20.567813946Z',
      StartedAt: '2020-10-08T20:47:20.567813946Z',
      Type: 'NORMAL',
      Networks: [
        {
          NetworkMode: 'awsvpc',
          IPv4Addresses: ['192.0.2.3'],
          IPv6Addresses: ['2001:dB8:10b:1a00:32bf:a372:d80f:e958'],
          AttachmentIndex: 0,
          MACAddress: '02:b7:20:19:72:39',
          IPv4SubnetCIDRBlock: '192.0.2.0/24',
          IPv6SubnetCIDRBlock: '2600:1f13:10b:1a00::/64',
          DomainNameServers: ['192.0.2.2'],
          DomainNameSearchList: ['us-west-2.compute.internal'],
          PrivateDNSName: 'ip-172-31-30-173.us-west-2.compute.internal',
          SubnetGatewayIpv4Address: '192.0.2.0/24',
        },
      ],
      ClockDrift: { ClockErrorBound: 0.5458234999999999, ReferenceTimestamp: '2021-09-07T16:57:44Z', ClockSynchronizationStatus: 'SYNCHRONIZED' },
      ContainerARN: 'arn:aws:ecs:us-west-2:111122223333:container/1bdcca8b-f905-4ee6-885c-4064cb70f6e6',
      LogOptions: {
        'awslogs-create-group': 'true',
        'awslogs-group': '/ecs/containerlogs',
        'awslogs-region': 'us-west-2',
        'awslogs-stream': 'ecs/curl/e9028f8d5d8e4f258373e7b93ce9a3c3',
      },
      LogDriver: 'awslogs',
    },
  ],
  LaunchType: 'FARGATE',
};

/** Serves the metadata endpoint at /v4/<id>/task and a checkip-like text answer at /checkip. */
let server: Server;
let base = '';
let hits: string[] = [];
let checkipBody = '203.0.113.7\n';
let logs: string[] = [];
const log = (m: string) => logs.push(m);

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/v4/0f7e2a1b-task/task') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(FARGATE_TASK));
    } else if (req.url === '/checkip') {
      res.end(checkipBody);
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  hits = [];
  logs = [];
  checkipBody = '203.0.113.7\n';
});

const ecsEnv = () => ({ ECS_CONTAINER_METADATA_URI_V4: `${base}/v4/0f7e2a1b-task`, ICE_POLICY: 'all' });

describe('taskNetworkFrom', () => {
  it('reads the private address and subnet of the documented Fargate example', () => {
    expect(taskNetworkFrom(FARGATE_TASK)).toEqual({
      privateIpv4: '192.0.2.3',
      subnetCidr: '192.0.2.0/24',
      macAddress: '02:b7:20:19:72:39',
      privateDnsName: 'ip-172-31-30-173.us-west-2.compute.internal',
      availabilityZone: 'us-west-2a',
      launchType: 'FARGATE',
      taskArn: FARGATE_TASK.TaskARN,
    });
  });

  it('gives null for shapes without a network', () => {
    expect(taskNetworkFrom(null)).toBeNull();
    expect(taskNetworkFrom({ Containers: [{ Networks: [{ IPv4Addresses: [] }] }] })).toBeNull();
    expect(taskNetworkFrom({ Containers: 'x' })).toBeNull();
  });
});

describe('resolvePublicIp', () => {
  it('an explicit PUBLIC_IP wins: nothing is fetched', async () => {
    const ip = await resolvePublicIp({ ...ecsEnv(), PUBLIC_IP: '198.51.100.9', PUBLIC_IP_LOOKUP_URL: `${base}/checkip` }, fetch, log);
    expect(ip).toBe('198.51.100.9');
    expect(hits).toEqual([]);
  });

  it('relay-only needs no public address: nothing is fetched', async () => {
    const ip = await resolvePublicIp({ ...ecsEnv(), ICE_POLICY: 'relay', PUBLIC_IP_LOOKUP_URL: `${base}/checkip` }, fetch, log);
    expect(ip).toBeNull();
    expect(hits).toEqual([]);
  });

  it('task metadata alone: logs the private address, returns null, asks no lookup URL', async () => {
    const ip = await resolvePublicIp(ecsEnv(), fetch, log);
    expect(ip).toBeNull();
    expect(hits).toEqual(['/v4/0f7e2a1b-task/task']);
    expect(logs.join('\n')).toContain('private address 192.0.2.3 (subnet 192.0.2.0/24, ENI 02:b7:20:19:72:39, us-west-2a, FARGATE)');
    expect(logs.join('\n')).toContain('set PUBLIC_IP or PUBLIC_IP_LOOKUP_URL');
  });

  it('uses PUBLIC_IP_LOOKUP_URL when configured', async () => {
    const ip = await resolvePublicIp({ ...ecsEnv(), PUBLIC_IP_LOOKUP_URL: `${base}/checkip` }, fetch, log);
    expect(ip).toBe('203.0.113.7');
    expect(hits).toEqual(['/v4/0f7e2a1b-task/task', '/checkip']);
    expect(logs.at(-1)).toBe(`public address 203.0.113.7 (from ${base}/checkip)`);
  });

  it('rejects a lookup answer that is not an IPv4 address', async () => {
    checkipBody = '<html>captive portal</html>';
    expect(await resolvePublicIp({ ...ecsEnv(), PUBLIC_IP_LOOKUP_URL: `${base}/checkip` }, fetch, log)).toBeNull();
    expect(logs.at(-1)).toContain('without an IPv4 address');
  });

  it('an unreadable metadata endpoint or lookup is logged, not thrown', async () => {
    const env = { ECS_CONTAINER_METADATA_URI_V4: `${base}/v4/other`, PUBLIC_IP_LOOKUP_URL: 'http://127.0.0.1:1/checkip' };
    expect(await resolvePublicIp(env, fetch, log)).toBeNull();
    expect(logs[0]).toContain('task metadata: HTTP 404');
    expect(logs.at(-1)).toContain('unreachable');
  });

  it('off ECS with nothing configured: null, nothing fetched, nothing logged', async () => {
    expect(await resolvePublicIp({}, fetch, log)).toBeNull();
    expect(hits).toEqual([]);
    expect(logs).toEqual([]);
  });
});

/**
 * runLoad against a server that is already running, e.g. the aiortc echo baseline:
 *
 *   node bench/media/load-cli.ts --plain-offer http://127.0.0.1:8080 --server-pid 1234 \
 *     --sessions 40 --processes 2 [--warmup 3000] [--window 10000] [--no-data-channel]
 *
 * (`--whip <edge url>` for our stack). With --server-pid, that process's CPU (all threads) is read
 * from /proc exactly over the window. Prints one JSON line: { server, machine, load }.
 */
import { parseArgs } from 'node:util';
import { cpuWindow, machineBusyPct } from './proc-cpu.ts';
import { runLoad } from './run-load.ts';
import type { SignalingConfig } from './signaling.ts';

const { values: a } = parseArgs({
  options: {
    'plain-offer': { type: 'string' },
    whip: { type: 'string' },
    'server-pid': { type: 'string' },
    sessions: { type: 'string', default: '10' },
    processes: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '3000' },
    window: { type: 'string', default: '10000' },
    'connect-concurrency': { type: 'string', default: '5' },
    'no-data-channel': { type: 'boolean', default: false },
  },
});
const signaling: SignalingConfig | undefined = a['plain-offer'] ? { kind: 'plainOffer', url: a['plain-offer'] } : a.whip ? { kind: 'whip', url: a.whip } : undefined;
if (!signaling) {
  console.error('give --plain-offer <base url> or --whip <edge url>');
  process.exit(2);
}
const serverPid = a['server-pid'] ? Number(a['server-pid']) : undefined;
const busyBeforePct = await machineBusyPct(2000);
let window: ReturnType<typeof cpuWindow> | undefined;
let cpu: ReturnType<ReturnType<typeof cpuWindow>['stop']> | undefined;
const load = await runLoad({
  signaling,
  sessions: Number(a.sessions),
  processes: Number(a.processes),
  warmupMs: Number(a.warmup),
  windowMs: Number(a.window),
  connectConcurrency: Number(a['connect-concurrency']),
  dataChannel: !a['no-data-channel'],
  onWindowStart: () => (window = cpuWindow(serverPid ? { server: serverPid } : {})),
  onWindowEnd: () => (cpu = window?.stop()),
  log: (l) => process.stderr.write(`${l}\n`),
});
const serverPct = cpu?.pct['server'];
console.log(
  JSON.stringify({
    server:
      serverPid && serverPct !== undefined
        ? { pid: serverPid, cpuPct: serverPct, cpuPctPerSession: Math.round((serverPct / Math.max(1, load.connected)) * 100) / 100, rssMiB: cpu?.rssMiB['server'] }
        : null,
    machine: cpu && { busyBeforeRunPct: busyBeforePct, busyPctOfOneCore: cpu.machineBusyPct, otherPct: Math.round((cpu.machineBusyPct - (serverPct ?? 0) - load.loadGen.cpuPct) * 10) / 10 },
    load,
  }),
);
process.exit(0);

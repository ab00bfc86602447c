import type { MinuteRun } from './phone-minute.ts';
import { ASSUME, DURATION_DOC } from './phone-minute-prices.ts';

/** The `minute` section's tables: what a call-minute uses (one column per provider), then its cost. */
export function printMinuteSection(runs: readonly MinuteRun[]): void {
  if (runs.length === 0) return;
  const col = (f: (r: MinuteRun) => number | string) => Object.fromEntries(runs.map((r) => [r.provider, f(r)]));
  const first = runs[0]!;
  console.log(`  ${first.calls} calls at once per provider, ${first.durationMs / 1000} s each (${first.turnsPerCall} caller turns, each answered by 3 s of tone).`);
  console.log('  Per call-minute: CPU in the steady state (all streams open), idle subtracted; messages and bytes over whole calls, counted at a proxy in front of the edge:');
  console.table({
    'edge (workerd) CPU ms': col((r) => r.perMinute.edgeCpuMs),
    'worker CPU ms': col((r) => r.perMinute.workerCpuMs),
    'msgs in: provider -> edge': col((r) => r.perMinute.providerIn),
    'msgs in: worker -> edge (media)': col((r) => r.perMinute.mediaIn),
    'msgs in: worker -> edge (control)': col((r) => r.perMinute.controlIn),
    'msgs out: edge -> provider': col((r) => r.perMinute.providerOut),
    'msgs out: edge -> worker': col((r) => r.perMinute.mediaOut + r.perMinute.controlOut),
    'worker -> edge KB (payload)': col((r) => Math.round(r.perMinute.workerPayloadBytes / 100) / 10),
    'worker -> edge KB (+ TLS/TCP/IP)': col((r) => Math.round(r.perMinute.workerWireBytes / 100) / 10),
    'caller: frames sent': col((r) => r.caller.framesSent),
    'caller: marks echoed': col((r) => r.caller.marksEchoed),
    'caller: reply frames heard': col((r) => r.caller.framesHeard),
    'caller: turns answered': col((r) => r.caller.turnsHeard),
    'calls per vCPU at 70%': col((r) => r.cost.callsPerVcpu),
  });
  console.log('  Per call, once (webhooks, set-up, hang-up; whole window minus the steady rates):');
  console.table({
    'HTTP requests': col((r) => r.perCall.httpRequests),
    'HTTP requests: wall ms at the edge': col((r) => r.perCall.requestWallMs),
    'edge CPU ms': col((r) => r.perCall.edgeCpuMs),
    'worker CPU ms': col((r) => r.perCall.workerCpuMs),
  });
  console.log(`  DO duration model (${DURATION_DOC}): a DO is billed for duration only while active or unable to hibernate; a call's`);
  console.log('  object is eligible between messages, so billed = active time, assumed = edge CPU during the calls (steady, per');
  console.log("  call-minute) + per call the edge's one-off CPU and its requests' wall time (awaits in handlers): an upper bound.");
  console.log('  DO CPU is not billed; Worker CPU = the one-off edge CPU per call (webhooks, upgrades; an upper bound too).');
  console.log('  DO active ms per call-minute:', Object.entries(col((r) => r.cost.activeMsPerMinute)).map(([p, v]) => `${p} ${v}`).join(', '));
  console.log(`  $ per 1,000 phone call-minutes (list prices, bench/phone-minute-prices.ts; one-off parts over ${ASSUME.callMinutes}-minute calls):`);
  const table: Record<string, Record<string, number | string>> = {};
  for (const [i, line] of first.cost.lines.entries()) {
    table[line.item.replace(/ \(\d+ calls at/, ' (calls at')] = { ...col((r) => r.cost.lines[i]?.usd ?? '-'), [`${first.provider}: arithmetic`]: line.arithmetic };
  }
  table['total'] = { ...col((r) => r.cost.total), [`${first.provider}: arithmetic`]: '' };
  // Not in the total: the object's duration as priced before, and the total each gives.
  for (const [i, c] of first.cost.comparison.entries()) {
    table[`vs ${c.item}`] = { ...col((r) => r.cost.comparison[i]?.usd ?? '-'), [`${first.provider}: arithmetic`]: c.arithmetic };
    table[`total with ${c.item.split(/[:(]/)[0]!.trim()}`] = { ...col((r) => r.cost.comparison[i]?.total ?? '-'), [`${first.provider}: arithmetic`]: '' };
  }
  console.table(table);
  console.log(`  steady windows: ${runs.map((r) => `${r.provider} ${r.steady.wallMs} ms, worker ${r.steady.workerPct}% edge ${r.steady.edgePct}% other ${r.steady.otherPct}% of a core (idle: worker ${r.idlePct.worker}%, edge ${r.idlePct.edge}%)`).join('; ')}`);
  for (const r of runs) for (const f of r.failures) console.log(`  ${r.provider}: ${f}`);
}

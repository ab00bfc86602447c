/**
 * `node test/support/data-channel-flooder.ts <edgeUrl> <count>`: a WebRTC client (werift) that
 * calls the edge, waits for its session to be live, then sends `count` data channel messages,
 * each of a new `type`, as fast as its channel takes them (at most 64 KiB queued, as a browser's
 * sender keeps it), until they are sent or the channel closes. Prints one JSON line: the session
 * id, the messages sent, the flood's start (epoch ms) and the `error` events it received. A
 * process of its own, so the flood's client-side work does not disturb a neighbour call measured
 * by the test that starts it.
 */
import { RtcTestClient } from './rtc-client.ts';

const [edge, countArg] = process.argv.slice(2);
if (!edge) throw new Error('usage: data-channel-flooder.ts <edgeUrl> <count>');
const count = Number(countArg ?? 20_000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const client = await RtcTestClient.connect(edge);
const id = client.sessionUrl.split('/').pop()!;
for (let i = 0; i < 500; i++) {
  const st = (await (await fetch(`${edge}/v1/sessions/${id}/status`)).json()) as { state: string };
  if (st.state === 'live') break;
  await sleep(10);
}
await sleep(200);
const startedAt = Date.now();
let sent = 0;
while (sent < count && client.channel.readyState === 'open') {
  if (client.channel.bufferedAmount > 64 * 1024) {
    await sleep(1);
    continue;
  }
  for (let k = 0; k < 100 && sent < count; k++, sent++) client.channel.send(JSON.stringify({ type: `flood.${sent}`, pad: 'x'.repeat(100) }));
  await new Promise((r) => setImmediate(r));
}
// The worker's `error` event and its closing of the call arrive within a moment of the flood.
for (let i = 0; i < 300 && client.channel.readyState === 'open'; i++) await sleep(10);
const errors = client.events.filter((e) => e.type === 'error').map(({ receivedAt: _, ...e }) => e);
console.log(JSON.stringify({ id, sent, startedAt, errors }));
await client.pc.close();
process.exit(0);

/** openaiRealtime through the real pipeline against the fake Realtime API: session config, audio both ways, transcripts, tools, push to talk. */
import { describe, expect, it } from 'vitest';
import { audioFrame, durationMs } from '../../audio/frame.ts';
import { expectedTone, startCall } from './harness.test-helper.ts';

const tools = [
  {
    name: 'get_weather',
    description: 'Weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    run: async (args: unknown) => ({ city: (args as { city: string }).city, tempC: 21 }),
  },
];

describe('openaiRealtime', { timeout: 15_000 }, () => {
  it('opens the session with the key, the GA session config and 24 kHz PCM both ways', async () => {
    const { fake } = await startCall({ voice: 'marin', instructions: 'Be brief.', tools, greeting: 'Greet the caller.', model: 'gpt-realtime' });
    await fake.waitFor(() => fake.eventsOf('response.create').length === 1, 'the greeting');
    expect(fake.headers[0]?.authorization).toBe('Bearer sk-test');
    expect(fake.received.map((r) => r.event.type).slice(0, 2)).toEqual(['session.update', 'response.create']);
    expect(fake.eventsOf('session.update')[0]).toEqual({
      type: 'session.update',
      session: {
        type: 'realtime',
        model: 'gpt-realtime',
        output_modalities: ['audio'],
        instructions: 'Be brief.',
        audio: {
          input: {
            format: { type: 'audio/pcm', rate: 24_000 },
            transcription: { model: 'gpt-4o-mini-transcribe' },
            turn_detection: { type: 'server_vad', create_response: true, interrupt_response: true },
          },
          output: { format: { type: 'audio/pcm', rate: 24_000 }, voice: 'marin' },
        },
        tools: [{ type: 'function', name: 'get_weather', description: 'Weather in a city', parameters: tools[0]!.parameters }],
        tool_choice: 'auto',
      },
    });
    expect(fake.eventsOf('response.create')[0]).toEqual({ type: 'response.create', response: { instructions: 'Be brief.\n\nGreet the caller.' } });
    expect(fake.sentOf('error')).toEqual([]); // the fake accepted every event
  });

  it('does not greet again on a takeover', async () => {
    const { fake } = await startCall({ greeting: true }, { session: { takeover: true } });
    await fake.waitFor(() => fake.eventsOf('session.update').length === 1, 'session.update');
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.eventsOf('response.create')).toEqual([]);
  });

  it('streams caller audio as 20 ms PCM16 appends, and plays the reply at 24 kHz with its turn events and transcripts', async () => {
    const { fake, t } = await startCall();
    await fake.waitFor(() => fake.eventsOf('session.update').length === 1, 'session.update');
    const caller = new Int16Array(24_000).map((_, i) => (i % 100) - 50); // 1 s at 24 kHz
    await t.feed(audioFrame(caller, 24_000), { speed: 4 });
    await fake.waitFor(() => fake.inputMs() >= 1000, '1 s of input');
    const appends = fake.eventsOf('input_audio_buffer.append').map((e) => Buffer.from(String(e.audio), 'base64'));
    expect(appends.every((b) => b.length === 960)).toBe(true); // 480 samples = 20 ms at 24 kHz
    expect(fake.inputMs()).toBe(1000);
    // Sample-exact: the bytes the model got are the caller's samples, little-endian.
    const got = Buffer.concat(appends);
    expect(new Int16Array(got.buffer, got.byteOffset, got.length / 2)).toEqual(caller);

    fake.responses.push({ audioMs: 600, chunkMs: 100, transcript: 'Hi, how can I help?' });
    fake.speechStopped();
    await t.waitForEvent('reply.end');
    expect(t.types()).toEqual(['transcript', 'reply.start', 'transcript', 'reply.end']);
    expect(t.eventsOf('transcript')).toEqual([
      { type: 'transcript', role: 'user', text: 'hello there', final: true },
      { type: 'transcript', role: 'assistant', text: 'Hi, how can I help?', final: true, turn: 1 },
    ]);
    expect(t.eventsOf('reply.start')[0]).toMatchObject({ turn: 1 });
    expect(t.eventsOf('reply.end')[0]).toMatchObject({ turn: 1 });
    expect(t.played.every((p) => p.frame.sampleRate === 24_000 && p.frame.channels === 1)).toBe(true);
    expect(t.playedMs()).toBe(600);
    const played = new Int16Array(t.played.reduce((n, p) => n + p.frame.samples.length, 0));
    t.played.reduce((off, p) => (played.set(p.frame.samples, off), off + p.frame.samples.length), 0);
    expect(played).toEqual(expectedTone(14_400));
  });

  it('runs a function call: tool.call to the client, function_call_output and response.create to the model, one turn', async () => {
    const { fake, t } = await startCall({ tools });
    await fake.waitFor(() => fake.eventsOf('session.update').length === 1, 'session.update');
    await t.feed(audioFrame(new Int16Array(2400), 24_000));
    await fake.waitFor(() => fake.inputMs() > 0, 'input');
    fake.responses.push({ audioMs: 200, transcript: 'Let me check.', functionCall: { name: 'get_weather', arguments: '{"city":"Paris"}' } });
    fake.responses.push({ audioMs: 300, transcript: 'It is 21 degrees in Paris.' });
    fake.speechStopped();
    await t.waitForEvent('reply.end');
    const callId = fake.sentOf('response.function_call_arguments.done')[0]?.call_id;
    expect(t.eventsOf('tool.call')).toEqual([{ type: 'tool.call', name: 'get_weather', callId, arguments: '{"city":"Paris"}' }]);
    const types = fake.received.map((r) => r.event.type).filter((x) => x !== 'input_audio_buffer.append');
    expect(types).toEqual(['session.update', 'conversation.item.create', 'response.create']);
    expect(fake.eventsOf('conversation.item.create')[0]).toEqual({
      type: 'conversation.item.create',
      item: { type: 'function_call_output', call_id: callId, output: '{"city":"Paris","tempC":21}' },
    });
    expect(fake.sentOf('error')).toEqual([]);
    // Both responses' audio is one assistant turn.
    expect(t.types(['reply.start', 'reply.end'])).toEqual(['reply.start', 'reply.end']);
    expect(t.playedMs()).toBe(500);
    expect(t.eventsOf('transcript').map((e) => e.text)).toEqual(['hello there', 'Let me check.', 'It is 21 degrees in Paris.']);
  });

  it("a failing tool's error goes to the model as its output and to the client as an error event", async () => {
    const failing = [{ ...tools[0]!, run: async () => Promise.reject(new Error('weather service down')) }];
    const { fake, t } = await startCall({ tools: failing });
    await fake.waitFor(() => fake.eventsOf('session.update').length === 1, 'session.update');
    fake.responses.push({ functionCall: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }, { audioMs: 100 });
    await t.feed(audioFrame(new Int16Array(2400), 24_000));
    await fake.waitFor(() => fake.inputMs() > 0, 'input');
    fake.speechStopped();
    await t.waitForEvent('reply.end');
    const output = fake.eventsOf('conversation.item.create')[0]?.item as { output: string };
    expect(JSON.parse(output.output)).toEqual({ error: 'tool "get_weather" failed: weather service down' });
    expect(t.eventsOf('error')).toEqual([{ type: 'error', message: 'tool call failed: tool "get_weather" failed: weather service down' }]);
  });

  it("turnDetection 'none': no server VAD; the client's turn.end commits and asks for a reply", async () => {
    const { fake, t } = await startCall({ turnDetection: 'none' });
    await fake.waitFor(() => fake.eventsOf('session.update').length === 1, 'session.update');
    const session = fake.eventsOf('session.update')[0]?.session as { audio: { input: { turn_detection: unknown } } };
    expect(session.audio.input.turn_detection).toBeNull();
    await t.feed(audioFrame(new Int16Array(4800), 24_000));
    await fake.waitFor(() => fake.inputMs() >= 200, 'input');
    fake.responses.push({ audioMs: 200 });
    t.clientEvent({ type: 'turn.end' });
    await t.waitForEvent('reply.end');
    expect(fake.received.map((r) => r.event.type).filter((x) => x !== 'input_audio_buffer.append')).toEqual(['session.update', 'input_audio_buffer.commit', 'response.create']);
    expect(durationMs(t.played[0]!.frame)).toBe(100);
    // turn.start: the caller takes the floor; stale input is dropped.
    t.clientEvent({ type: 'turn.start' });
    await fake.waitFor(() => fake.eventsOf('input_audio_buffer.clear').length === 1, 'input_audio_buffer.clear');
    expect(fake.sentOf('error')).toEqual([]);
  });
});

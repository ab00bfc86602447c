import type { Codec } from '../pcm.ts';
import { readDial } from '../dial-markup.ts';
import { streamParameters } from '../twiml.ts';
import { MarkupError, attrs, children, httpMethod, resolveUrl, responseVerbs, seconds, tagOf, text, type OrderedNode } from '../xml-doc.ts';
import type { MarkupAction, StreamTarget } from './types.ts';

/**
 * TeXML as Telnyx documents it (TwiML-compatible), for the verbs the edge can send:
 *
 *   <Connect [action method]><Stream url .../></Connect>                  -> connect
 *   <Start><Stream url .../></Start> <Pause length/>* [end | <Hangup/>]   -> connect; Telnyx hangs
 *     up when the verbs run out, so the call lasts the pauses after <Start> (`endsAfterS`)
 *   <Say/>* <Pause/>* <Redirect method>url</Redirect>                      -> redirect (hold)
 *   <Say/>* <Hangup/> | <Reject/> | end of document                        -> hangup
 *   <Say/>* <Dial action timeout callerId><Number/></Dial>                 -> dial (without
 *     `action`, Telnyx goes on with the verbs after it: `then`)
 *
 * `<Stream>` attributes: `codec` (the streamed audio: PCMU, PCMA, G722, OPUS, AMR-WB, L16, default
 * = the call's, PCMU here), `bidirectionalMode` (mp3 by default, rtp for raw audio back),
 * `bidirectionalCodec` (rtp only; PCMU by default) and `bidirectionalSamplingRate` (8000 by
 * default; 16000, 24000). The simulator implements PCMU and L16 and refuses the rest.
 */
export class TexmlError extends MarkupError {
  override name = 'TexmlError';
}
const fail = (m: string) => new TexmlError(m);

const RATES = new Set([8000, 16000, 24000]);

function codecOf(name: string | undefined, rate: number, attr: string): Codec {
  const n = (name ?? 'default').toUpperCase();
  if (n === 'PCMU' || n === 'DEFAULT') return { encoding: 'mulaw', rate: 8000 };
  if (n === 'L16') return { encoding: 'l16', rate, bigEndian: true }; // RTP L16: network byte order
  throw fail(`<Stream ${attr}="${name}">: the simulator implements PCMU and L16 only`);
}

function streamTarget(stream: OrderedNode): StreamTarget {
  const a = attrs(stream);
  if (!a.url) throw fail('<Stream> without a url attribute');
  if (a.track !== undefined && a.track !== 'inbound_track' && a.track !== 'both_tracks') {
    throw fail(`<Stream track="${a.track}">: the caller's audio would not be streamed`);
  }
  const rate = Number(a.bidirectionalSamplingRate ?? '8000');
  if (!RATES.has(rate)) throw fail(`<Stream bidirectionalSamplingRate="${a.bidirectionalSamplingRate}"> is not 8000, 16000 or 24000`);
  const mode = a.bidirectionalMode ?? 'mp3';
  if (mode !== 'mp3' && mode !== 'rtp') throw fail(`<Stream bidirectionalMode="${mode}"> is not mp3 or rtp`);
  const inbound = codecOf(a.codec, rate, 'codec');
  const outbound = mode === 'rtp' ? codecOf(a.bidirectionalCodec ?? 'PCMU', rate, 'bidirectionalCodec') : inbound;
  return {
    url: a.url,
    parameters: streamParameters(stream, fail),
    inbound,
    outbound,
    ...(mode === 'rtp' ? {} : { playbackProblem: 'the <Stream> has no bidirectionalMode="rtp": Telnyx takes base64 MP3 files on it, not raw audio' }),
  };
}

export function parseTexml(xml: string, documentUrl?: string): MarkupAction {
  return parseVerbs(responseVerbs(xml, fail), documentUrl);
}

function parseVerbs(verbs: OrderedNode[], documentUrl?: string): MarkupAction {
  const said: string[] = [];
  let pauseS = 0;
  let started: StreamTarget | undefined;
  for (const [i, verb] of verbs.entries()) {
    const tag = tagOf(verb)!;
    switch (tag) {
      case 'Say':
        said.push(text(verb, tag));
        break;
      case 'Pause':
        pauseS += seconds(attrs(verb).length, '<Pause>', fail);
        break;
      case 'Start': {
        if (started) throw fail('a second <Start><Stream>');
        const stream = children(verb, tag).find((n) => tagOf(n) === 'Stream');
        if (!stream) throw fail('<Start> without a <Stream>');
        started = streamTarget(stream);
        pauseS = 0; // from here, pauses are how long the streamed call lasts
        break;
      }
      case 'Redirect': {
        if (started) throw fail('<Redirect> after <Start><Stream> (not implemented)');
        const target = text(verb, tag);
        if (!target) throw fail('<Redirect> without a URL');
        return { redirect: { url: resolveUrl(target, documentUrl), method: httpMethod(attrs(verb).method, '<Redirect>', fail), pauseS, say: said.join(' ') } };
      }
      case 'Connect': {
        const stream = children(verb, tag).find((n) => tagOf(n) === 'Stream');
        if (!stream) throw fail('<Connect> without a <Stream>');
        const target = streamTarget(stream);
        const { action, method } = attrs(verb);
        if (action !== undefined) target.action = { url: resolveUrl(action, documentUrl), method: httpMethod(method, '<Connect>', fail) };
        return { connect: target };
      }
      case 'Dial':
        if (started) throw fail('<Dial> after <Start><Stream> (not implemented)');
        return { dial: { ...readDial(verb, documentUrl, said, pauseS, fail), then: parseVerbs(verbs.slice(i + 1), documentUrl) } };
      case 'Hangup':
      case 'Reject':
        return started ? { connect: { ...started, endsAfterS: pauseS } } : { hangup: { say: said.join(' ') } };
      default:
        throw fail(`unsupported TeXML verb <${tag}>`);
    }
  }
  return started ? { connect: { ...started, endsAfterS: pauseS } } : { hangup: { say: said.join(' ') } };
}

import { readDial } from '../dial-markup.ts';
import type { Codec } from '../pcm.ts';
import { MarkupError, attrs, httpMethod, resolveUrl, responseVerbs, seconds, tagOf, text, type OrderedNode } from '../xml-doc.ts';
import type { MarkupAction, StreamTarget } from './types.ts';

/**
 * Plivo XML as Plivo documents it, for the elements the edge can send:
 *
 *   <Stream bidirectional keepCallAlive contentType extraHeaders ...>wss://...</Stream>  -> connect
 *     (without keepCallAlive="true" Plivo goes on with the next elements at once, so the call
 *     lasts only the <Wait>s after the stream: `endsAfterS`)
 *   <Speak/>* <Wait length/>* <Redirect method>url</Redirect>                          -> redirect (hold)
 *   <Speak/>* <Hangup/> | end of document                                               -> hangup
 *   <Speak/>* <Dial action timeout callerId><Number/></Dial>                            -> dial (without
 *     `action`, Plivo goes on with the elements after it: `then`)
 *
 * contentType: audio/x-l16;rate=8000 (the default), audio/x-l16;rate=16000 or audio/x-mulaw;rate=8000.
 */
export class PlivoXmlError extends MarkupError {
  override name = 'PlivoXmlError';
}
const fail = (m: string) => new PlivoXmlError(m);

/** Plivo's L16 payloads are read as little-endian 16-bit PCM (raw PCM, no RTP framing). */
export const PLIVO_L16_BIG_ENDIAN = false;

export function plivoCodec(contentType: string): Codec {
  const m = /^\s*(audio\/x-l16|audio\/x-mulaw)\s*;\s*rate\s*=\s*(\d+)\s*$/i.exec(contentType);
  const type = m?.[1]?.toLowerCase();
  const rate = Number(m?.[2]);
  if (type === 'audio/x-l16' && (rate === 8000 || rate === 16000)) return { encoding: 'l16', rate, bigEndian: PLIVO_L16_BIG_ENDIAN };
  if (type === 'audio/x-mulaw' && rate === 8000) return { encoding: 'mulaw', rate };
  throw fail(`<Stream contentType="${contentType}"> is not audio/x-l16;rate=8000, audio/x-l16;rate=16000 or audio/x-mulaw;rate=8000`);
}

function streamTarget(node: OrderedNode): StreamTarget & { keepCallAlive: boolean; extraHeaders: string } {
  const a = attrs(node);
  const url = text(node, 'Stream');
  if (!/^wss?:\/\//.test(url)) throw fail(`<Stream> body is not a ws(s):// URL: ${JSON.stringify(url)}`);
  if (a.audioTrack !== undefined && a.audioTrack !== 'inbound') throw fail(`<Stream audioTrack="${a.audioTrack}">: Plivo requires inbound with bidirectional streams`);
  const codec = plivoCodec(a.contentType ?? 'audio/x-l16;rate=8000');
  const bidirectional = a.bidirectional === 'true';
  return {
    url,
    parameters: {},
    inbound: codec,
    outbound: codec,
    ...(bidirectional ? {} : { playbackProblem: 'the <Stream> is not bidirectional="true": Plivo plays nothing sent on it' }),
    keepCallAlive: a.keepCallAlive === 'true',
    extraHeaders: a.extraHeaders ?? '',
  };
}

export function parsePlivoXml(xml: string, documentUrl?: string): MarkupAction {
  return parseElements(responseVerbs(xml, fail), documentUrl);
}

function parseElements(elements: OrderedNode[], documentUrl?: string): MarkupAction {
  const said: string[] = [];
  let waitS = 0;
  let stream: ReturnType<typeof streamTarget> | undefined;
  const afterStream = () => ({ connect: stream!.keepCallAlive ? stream! : { ...stream!, endsAfterS: waitS } });
  for (const [i, el] of elements.entries()) {
    const tag = tagOf(el)!;
    if (stream?.keepCallAlive) break; // the stream runs alone until it disconnects
    switch (tag) {
      case 'Speak':
        said.push(text(el, tag));
        break;
      case 'Wait':
        waitS += seconds(attrs(el).length, '<Wait>', fail); // Plivo's default wait is 1 second
        break;
      case 'Stream':
        if (stream) throw fail('a second <Stream>');
        stream = streamTarget(el);
        waitS = 0;
        break;
      case 'Redirect': {
        if (stream) throw fail('<Redirect> after a <Stream> without keepCallAlive (not implemented)');
        const target = text(el, tag);
        if (!target) throw fail('<Redirect> without a URL');
        return { redirect: { url: resolveUrl(target, documentUrl), method: httpMethod(attrs(el).method, '<Redirect>', fail), pauseS: waitS, say: said.join(' ') } };
      }
      case 'Dial':
        if (stream) throw fail('<Dial> after a <Stream> without keepCallAlive (not implemented)');
        return { dial: { ...readDial(el, documentUrl, said, waitS, fail), then: parseElements(elements.slice(i + 1), documentUrl) } };
      case 'Hangup':
        return stream ? afterStream() : { hangup: { say: said.join(' ') } };
      default:
        throw fail(`unsupported Plivo XML element <${tag}>`);
    }
  }
  return stream ? afterStream() : { hangup: { say: said.join(' ') } };
}

import { readDial, type DialVerb } from './dial-markup.ts';
import { MarkupError, attrs, children, httpMethod, resolveUrl, responseVerbs, seconds, tagOf, text, type OrderedNode } from './xml-doc.ts';

/**
 * Reads the TwiML a voice webhook answers with, the way Twilio executes it: verbs in document
 * order, until one that hands the call elsewhere. Only the verbs the Switchboard edge can send
 * are understood; anything else is an error, so a change on the edge shows up here.
 *
 *   <Connect [action method]><Stream url><Parameter name value/>...</Stream></Connect>  -> connect
 *     (with `action`, Twilio requests that URL when the stream ends and runs the TwiML it gets)
 *   <Say/>* <Pause length/>* <Redirect method>url</Redirect>           -> redirect (hold)
 *   <Say/>* <Hangup/> | <Reject/> | end of document                     -> hangup
 *   <Say/>* <Dial action timeout callerId><Number/></Dial>              -> dial (without `action`,
 *     Twilio goes on with the verbs after it: `then`)
 */
export type TwimlAction =
  | { connect: { url: string; parameters: Record<string, string>; action?: { url: string; method: 'GET' | 'POST' } } }
  | { redirect: { url: string; method: 'GET' | 'POST'; pauseS: number; say: string } }
  | { hangup: { say: string } }
  | { dial: DialVerb & { then: TwimlAction } };

export class TwimlError extends MarkupError {
  override name = 'TwimlError';
}

const fail = (m: string) => new TwimlError(m);

/** `<Parameter name value/>` children of a `<Stream>`. */
export function streamParameters(stream: Record<string, unknown>, make: (m: string) => Error = fail): Record<string, string> {
  const parameters: Record<string, string> = {};
  for (const p of children(stream, 'Stream')) {
    if (tagOf(p) !== 'Parameter') continue;
    const { name, value } = attrs(p);
    if (name === undefined) throw make('<Parameter> without a name');
    parameters[name] = value ?? '';
  }
  return parameters;
}

/**
 * Parses one TwiML document. `documentUrl` is the URL the document was fetched from: Twilio
 * resolves a relative `<Redirect>` URL against it. Throws TwimlError when the text is not XML,
 * has no `<Response>` root, or uses a verb this simulator does not implement.
 */
export function parseTwiml(xml: string, documentUrl?: string): TwimlAction {
  return parseVerbs(responseVerbs(xml, fail), documentUrl);
}

function parseVerbs(verbs: OrderedNode[], documentUrl?: string): TwimlAction {
  const said: string[] = [];
  let pauseS = 0;
  for (const [i, verb] of verbs.entries()) {
    const tag = tagOf(verb)!;
    switch (tag) {
      case 'Say':
        said.push(text(verb, tag));
        break;
      case 'Pause':
        pauseS += seconds(attrs(verb).length, '<Pause>', fail); // Twilio's default pause is 1 second
        break;
      case 'Redirect': {
        const target = text(verb, tag);
        if (!target) throw fail('<Redirect> without a URL');
        const method = httpMethod(attrs(verb).method, '<Redirect>', fail);
        return { redirect: { url: resolveUrl(target, documentUrl), method, pauseS, say: said.join(' ') } };
      }
      case 'Connect': {
        const stream = children(verb, tag).find((n) => tagOf(n) === 'Stream');
        if (!stream) throw fail('<Connect> without a <Stream>');
        const url = attrs(stream).url;
        if (!url) throw fail('<Stream> without a url attribute');
        const parameters = streamParameters(stream);
        const { action, method } = attrs(verb);
        if (action === undefined) return { connect: { url, parameters } };
        const m = httpMethod(method, '<Connect>', fail);
        return { connect: { url, parameters, action: { url: resolveUrl(action, documentUrl), method: m } } };
      }
      case 'Hangup':
      case 'Reject':
        return { hangup: { say: said.join(' ') } };
      case 'Dial':
        return { dial: { ...readDial(verb, documentUrl, said, pauseS, fail), then: parseVerbs(verbs.slice(i + 1), documentUrl) } };
      default:
        throw fail(`unsupported TwiML verb <${tag}>`);
    }
  }
  // Twilio ends the call when it runs out of verbs.
  return { hangup: { say: said.join(' ') } };
}

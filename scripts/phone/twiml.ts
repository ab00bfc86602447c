import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * Reads the TwiML a voice webhook answers with, the way Twilio executes it: verbs in document
 * order, until one that hands the call elsewhere. Only the verbs the Switchboard edge can send
 * are understood; anything else is an error, so a change on the edge shows up here.
 *
 *   <Connect [action method]><Stream url><Parameter name value/>...</Stream></Connect>  -> connect
 *     (with `action`, Twilio requests that URL when the stream ends and runs the TwiML it gets)
 *   <Say/>* <Pause length/>* <Redirect method>url</Redirect>           -> redirect (hold)
 *   <Say/>* <Hangup/> | <Reject/> | end of document                     -> hangup
 */
export type TwimlAction =
  | { connect: { url: string; parameters: Record<string, string>; action?: { url: string; method: 'GET' | 'POST' } } }
  | { redirect: { url: string; method: 'GET' | 'POST'; pauseS: number; say: string } }
  | { hangup: { say: string } };

/** A TwiML verb as fast-xml-parser's `preserveOrder` mode gives it: `{ Tag: children, ':@': attrs }`. */
type OrderedNode = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true, // verbs run in document order, so order must survive parsing
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false, // `<Say>123</Say>` stays the string "123"
  parseAttributeValue: false, // `value="0123"` stays "0123"
  trimValues: false,
  htmlEntities: true, // needed for numeric references (`&#13;`, `&#10;`), which the edge's escaper emits
});

export class TwimlError extends Error {
  override name = 'TwimlError';
}

function tagOf(node: OrderedNode): string | undefined {
  return Object.keys(node).find((k) => k !== ':@');
}

function children(node: OrderedNode, tag: string): OrderedNode[] {
  const c = node[tag];
  return Array.isArray(c) ? (c as OrderedNode[]) : [];
}

function attrs(node: OrderedNode): Record<string, string> {
  const a = node[':@'];
  return a && typeof a === 'object' ? (a as Record<string, string>) : {};
}

function text(node: OrderedNode, tag: string): string {
  return children(node, tag)
    .map((c) => (typeof c['#text'] === 'string' ? c['#text'] : ''))
    .join('')
    .trim();
}

/**
 * Parses one TwiML document. `documentUrl` is the URL the document was fetched from: Twilio
 * resolves a relative `<Redirect>` URL against it. Throws TwimlError when the text is not XML,
 * has no `<Response>` root, or uses a verb this simulator does not implement.
 */
export function parseTwiml(xml: string, documentUrl?: string): TwimlAction {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new TwimlError(`not XML: ${valid.err.msg} (line ${valid.err.line})`);
  const doc = parser.parse(xml) as OrderedNode[];
  const root = doc.find((n) => tagOf(n) === 'Response');
  if (!root) throw new TwimlError(`no <Response> root element (found ${doc.map(tagOf).filter((t) => t !== '?xml').join(', ') || 'nothing'})`);

  const said: string[] = [];
  let pauseS = 0;
  for (const verb of children(root, 'Response')) {
    const tag = tagOf(verb);
    if (tag === undefined || tag === '#text') continue; // whitespace between verbs
    switch (tag) {
      case 'Say':
        said.push(text(verb, tag));
        break;
      case 'Pause': {
        // Twilio's default pause is 1 second.
        const length = Number(attrs(verb).length ?? '1');
        if (!Number.isFinite(length) || length < 0) throw new TwimlError(`<Pause length="${attrs(verb).length}"> is not a number of seconds`);
        pauseS += length;
        break;
      }
      case 'Redirect': {
        const target = text(verb, tag);
        if (!target) throw new TwimlError('<Redirect> without a URL');
        const method = (attrs(verb).method ?? 'POST').toUpperCase(); // Twilio's default is POST
        if (method !== 'POST' && method !== 'GET') throw new TwimlError(`<Redirect method="${method}"> is not GET or POST`);
        const url = documentUrl ? new URL(target, documentUrl).toString() : target;
        return { redirect: { url, method, pauseS, say: said.join(' ') } };
      }
      case 'Connect': {
        const stream = children(verb, tag).find((n) => tagOf(n) === 'Stream');
        if (!stream) throw new TwimlError('<Connect> without a <Stream>');
        const url = attrs(stream).url;
        if (!url) throw new TwimlError('<Stream> without a url attribute');
        const parameters: Record<string, string> = {};
        for (const p of children(stream, 'Stream')) {
          if (tagOf(p) !== 'Parameter') continue;
          const { name, value } = attrs(p);
          if (name === undefined) throw new TwimlError('<Parameter> without a name');
          parameters[name] = value ?? '';
        }
        const { action, method } = attrs(verb);
        if (action === undefined) return { connect: { url, parameters } };
        const m = (method ?? 'POST').toUpperCase(); // Twilio's default is POST
        if (m !== 'POST' && m !== 'GET') throw new TwimlError(`<Connect method="${method}"> is not GET or POST`);
        const actionUrl = documentUrl ? new URL(action, documentUrl).toString() : action;
        return { connect: { url, parameters, action: { url: actionUrl, method: m } } };
      }
      case 'Hangup':
      case 'Reject':
        return { hangup: { say: said.join(' ') } };
      default:
        throw new TwimlError(`unsupported TwiML verb <${tag}>`);
    }
  }
  // Twilio ends the call when it runs out of verbs.
  return { hangup: { say: said.join(' ') } };
}

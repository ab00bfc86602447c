import { attrs, children, httpMethod, resolveUrl, tagOf, text, type OrderedNode } from './xml-doc.ts';

/**
 * `<Dial>` as TwiML, TeXML and Plivo XML write it: the caller is bridged to another party (a
 * human, on a transfer). Attributes all three share: `action` (requested when the dialed leg ends,
 * with its outcome; its markup then runs), `method` (POST by default), `timeout` (seconds to ring)
 * and `callerId`. The party is the `<Number>` children (TwiML / TeXML also allow the number as
 * the element's text; `<Sip>`, `<Client>` and Plivo's `<User>` are recorded by their text too).
 */
export interface DialVerb {
  /** The numbers (or SIP / client addresses) dialed, in document order. */
  numbers: string[];
  callerId?: string;
  timeoutS?: number;
  action?: { url: string; method: 'GET' | 'POST' };
  /** What was said (`<Say>` / `<Speak>`) before the dial, and pauses before it. */
  say: string;
  pauseS: number;
}

const PARTIES = new Set(['Number', 'Sip', 'Client', 'User']);

export function readDial(node: OrderedNode, documentUrl: string | undefined, said: string[], pauseS: number, make: (m: string) => Error): DialVerb {
  const a = attrs(node);
  const numbers: string[] = [];
  for (const c of children(node, 'Dial')) {
    const tag = tagOf(c);
    if (tag === '#text') continue;
    if (tag === undefined || !PARTIES.has(tag)) throw make(`<Dial> with <${tag}> (the simulator dials <Number>, <Sip>, <Client> and <User>)`);
    const n = text(c, tag);
    if (!n) throw make(`<${tag}> without a number`);
    numbers.push(n);
  }
  if (numbers.length === 0) {
    const bare = text(node, 'Dial');
    if (bare) numbers.push(bare);
  }
  if (numbers.length === 0) throw make('<Dial> without a number');
  const timeoutS = a.timeout === undefined ? undefined : Number(a.timeout);
  if (timeoutS !== undefined && !(Number.isFinite(timeoutS) && timeoutS > 0)) throw make(`<Dial timeout="${a.timeout}"> is not a number of seconds`);
  return {
    numbers,
    ...(a.callerId !== undefined ? { callerId: a.callerId } : {}),
    ...(timeoutS !== undefined ? { timeoutS } : {}),
    ...(a.action !== undefined ? { action: { url: resolveUrl(a.action, documentUrl), method: httpMethod(a.method, '<Dial>', make) } } : {}),
    say: said.join(' '),
    pauseS,
  };
}

import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * Shared reading of call-control markup (TwiML, TeXML, Plivo XML): the document in order, as
 * fast-xml-parser's `preserveOrder` mode gives it (`{ Tag: children, ':@': attrs }`), since the
 * providers run the verbs in document order.
 */
export type OrderedNode = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false, // `<Say>123</Say>` stays the string "123"
  parseAttributeValue: false, // `value="0123"` stays "0123"
  trimValues: false,
  htmlEntities: true, // numeric references (`&#13;`, `&#10;`) must decode
});

export class MarkupError extends Error {
  override name = 'MarkupError';
}

export function tagOf(node: OrderedNode): string | undefined {
  return Object.keys(node).find((k) => k !== ':@');
}

export function children(node: OrderedNode, tag: string): OrderedNode[] {
  const c = node[tag];
  return Array.isArray(c) ? (c as OrderedNode[]) : [];
}

export function attrs(node: OrderedNode): Record<string, string> {
  const a = node[':@'];
  return a && typeof a === 'object' ? (a as Record<string, string>) : {};
}

export function text(node: OrderedNode, tag: string): string {
  return children(node, tag)
    .map((c) => (typeof c['#text'] === 'string' ? c['#text'] : ''))
    .join('')
    .trim();
}

/** The verbs under the `<Response>` root (whitespace dropped); throws `make(message)` when not markup. */
export function responseVerbs(xml: string, make: (message: string) => Error): OrderedNode[] {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw make(`not XML: ${valid.err.msg} (line ${valid.err.line})`);
  const doc = parser.parse(xml) as OrderedNode[];
  const root = doc.find((n) => tagOf(n) === 'Response');
  if (!root) throw make(`no <Response> root element (found ${doc.map(tagOf).filter((t) => t !== '?xml').join(', ') || 'nothing'})`);
  return children(root, 'Response').filter((v) => {
    const tag = tagOf(v);
    return tag !== undefined && tag !== '#text';
  });
}

/** `GET` or `POST` from a method attribute (default POST, as all three providers document). */
export function httpMethod(value: string | undefined, where: string, make: (m: string) => Error): 'GET' | 'POST' {
  const m = (value ?? 'POST').toUpperCase();
  if (m !== 'POST' && m !== 'GET') throw make(`${where} method="${value}" is not GET or POST`);
  return m;
}

/** Seconds from a length attribute (default 1 s). */
export function seconds(value: string | undefined, where: string, make: (m: string) => Error): number {
  const n = Number(value ?? '1');
  if (!Number.isFinite(n) || n < 0) throw make(`${where} length="${value}" is not a number of seconds`);
  return n;
}

/** Resolves a relative URL against the document's own URL, as the providers do. */
export const resolveUrl = (target: string, documentUrl?: string): string => (documentUrl ? new URL(target, documentUrl).toString() : target);

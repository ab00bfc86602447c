import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * Test support: reads provider markup back with a real XML parser, in document order (the
 * providers run verbs in order), decoding entities and character references.
 */

/** One element: its name, attributes, text content and child elements. */
export interface Element {
  tag: string;
  attrs: Record<string, string>;
  text: string;
  children: Element[];
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  htmlEntities: true,
});

type Node = Record<string, unknown>;

function toElement(node: Node): Element | undefined {
  const tag = Object.keys(node).find((k) => k !== ':@');
  if (tag === undefined || tag === '#text') return undefined;
  const kids = Array.isArray(node[tag]) ? (node[tag] as Node[]) : [];
  const attrs = (node[':@'] ?? {}) as Record<string, string>;
  const text = kids.map((k) => (typeof k['#text'] === 'string' ? k['#text'] : '')).join('');
  return { tag, attrs, text, children: kids.map(toElement).filter((e): e is Element => e !== undefined) };
}

/** The `<Response>` root of a well-formed document with the XML declaration; throws otherwise. */
export function parseResponse(xml: string): Element {
  if (!xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')) throw new Error('no XML declaration');
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`not XML: ${valid.err.msg}`);
  const root = (parser.parse(xml) as Node[]).map(toElement).find((e) => e?.tag === 'Response');
  if (!root) throw new Error('no <Response> root');
  return root;
}

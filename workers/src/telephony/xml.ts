/**
 * XML for provider call markup (TwiML, TeXML, Plivo XML), built as strings: every attribute and
 * text value is escaped, so caller-controlled text cannot change the markup.
 */

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

/**
 * Characters XML 1.0 cannot carry at all, not even as character references: C0 controls other
 * than tab, newline and carriage return, lone surrogates, U+FFFE and U+FFFF. They are dropped.
 */
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escapes text content: `&` and `<` (and `>` for `]]>`); `\r` as a reference so parsers keep it. */
export function escapeXmlText(s: string): string {
  return s
    .replace(NOT_XML, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r/g, '&#13;');
}

/**
 * Escapes a double-quoted attribute value: quotes too, and tab/newline/CR as references because
 * attribute-value normalisation would otherwise turn them into spaces.
 */
export function escapeXmlAttr(s: string): string {
  return escapeXmlText(s)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;');
}

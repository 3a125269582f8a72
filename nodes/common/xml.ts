import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { CodedError } from './errors';
import { excerpt } from './http';

/**
 * One XML parser setup for everything that reads XML (VCD version lists, AMQP
 * notifications, envelope payloads): attributes kept as `@name`, namespace
 * prefixes dropped, values left as strings ("36.0" must not become 36), the
 * predefined and character entities decoded.
 */
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  htmlEntities: true,
  processEntities: { enabled: true, maxEntityCount: 0 },
});

export const XmlCodes = {
  /** Not well-formed, too deeply nested, or with a DOCTYPE. */
  INVALID: 'XML_INVALID',
} as const;

export type XmlNode = Record<string, unknown>;

/**
 * Parses XML, or throws XML_INVALID. A DOCTYPE (and so any entity declaration)
 * is refused before parsing: none of the systems we read sends one, and it is
 * where entity-expansion and external-entity attacks start (the parser's own
 * entity limit still lets one declared entity through).
 */
export function parseXml(text: string): XmlNode {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) {
    throw new CodedError(XmlCodes.INVALID, 'XML with a DOCTYPE or entity declarations is not accepted.', {
      excerpt: excerpt(text, 200),
    });
  }
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new CodedError(XmlCodes.INVALID, `The XML is not well-formed: ${valid.err.msg}`, {
      excerpt: excerpt(text, 200),
    });
  }
  try {
    return parser.parse(text) as XmlNode;
  } catch (err) {
    // e.g. "Maximum nested tags exceeded": the parser throws plain Errors.
    throw new CodedError(XmlCodes.INVALID, `The XML cannot be read: ${(err as Error).message}`, {
      excerpt: excerpt(text, 200),
    });
  }
}

/** An element that may occur once or many times, always as an array. */
export function xmlList(value: unknown): XmlNode[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]) as XmlNode[];
}

/** The text of an element that may carry attributes (then its text is `#text`). */
export function xmlText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && '#text' in value) return String((value as XmlNode)['#text']);
  return undefined;
}

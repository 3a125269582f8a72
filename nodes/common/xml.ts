import { XMLParser } from 'fast-xml-parser';

/**
 * One XML parser setup for everything that reads XML (VCD version lists, AMQP
 * notifications): attributes kept as `@name`, namespace prefixes dropped, values
 * left as strings ("36.0" must not become 36), character references decoded, and
 * DOCTYPE entities never expanded (no entity-expansion attacks).
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

export type XmlNode = Record<string, unknown>;

export function parseXml(text: string): XmlNode {
  return parser.parse(text) as XmlNode;
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

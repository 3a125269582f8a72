/**
 * The legacy vCloud API speaks XML: a small writer for the documents the
 * simulator sends (Task, Vm, VApp, BlockingTask, Error), in the namespaces and
 * media types VCD uses, and a reader for the parameters it is sent.
 */
import type http from 'node:http';
import { XMLParser } from 'fast-xml-parser';

export const NS = {
  vcloud: 'http://www.vmware.com/vcloud/v1.5',
  vmext: 'http://www.vmware.com/vcloud/extension/v1.5',
} as const;

type AttrValue = string | number | boolean | undefined;

export interface XmlElement {
  name: string;
  attrs: Record<string, AttrValue>;
  children: (XmlElement | string)[];
}

/** One element: `el('vcloud:Link', { rel: 'up', href })`, children after the attributes. */
export function el(
  name: string,
  attrs: Record<string, AttrValue> = {},
  ...children: (XmlElement | string | undefined)[]
): XmlElement {
  return { name, attrs, children: children.filter((c): c is XmlElement | string => c !== undefined) };
}

function escape(text: string): string {
  return text.replace(
    /[&<>"]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string,
  );
}

function render(e: XmlElement, indent: string): string {
  const attrs = Object.entries(e.attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${escape(String(v))}"`)
    .join('');
  if (e.children.length === 0) return `${indent}<${e.name}${attrs}/>`;
  if (e.children.length === 1 && typeof e.children[0] === 'string') {
    return `${indent}<${e.name}${attrs}>${escape(e.children[0])}</${e.name}>`;
  }
  const inner = e.children
    .map((c) => (typeof c === 'string' ? `${indent}    ${escape(c)}` : render(c, `${indent}    `)))
    .join('\n');
  return `${indent}<${e.name}${attrs}>\n${inner}\n${indent}</${e.name}>`;
}

export function renderXml(root: XmlElement): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${render(root, '')}\n`;
}

/** Sends a document as `application/vnd.vmware.<kind>+xml;version=<v>`, as VCD labels its answers. */
export function sendXml(
  res: http.ServerResponse,
  status: number,
  root: XmlElement,
  mediaType: string,
  version: string,
): void {
  const text = renderXml(root);
  res.writeHead(status, {
    'content-type': `${mediaType};version=${version}`,
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** VCD's legacy error document: `<Error minorErrorCode message majorErrorCode/>`. */
export function sendXmlError(
  res: http.ServerResponse,
  status: number,
  minor: string,
  message: string,
  version = '39.0',
): void {
  const root = el('Error', {
    xmlns: NS.vcloud,
    minorErrorCode: minor,
    message,
    majorErrorCode: status,
    stackTrace: undefined,
  });
  sendXml(res, status, root, 'application/vnd.vmware.vcloud.error+xml', version);
}

const reader = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  processEntities: false,
});

/** A posted document's root element (namespace prefixes dropped), or undefined when it is not XML. */
export function parsePosted(xml: string, root: string): Record<string, unknown> | undefined {
  try {
    const doc = reader.parse(xml) as Record<string, unknown>;
    const value = doc[root];
    if (value === '') return {};
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Every occurrence of a child, as a list. */
export function childList(parent: Record<string, unknown> | undefined, name: string): unknown[] {
  const value = parent?.[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/**
 * The CloudEvents project's conformance data for the JSON format
 * (test/data/cloudevents-conformance, see its SOURCES.md), read for tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './source-files';

export type Json = Record<string, unknown>;

export interface ConformanceCase {
  id: string;
  event?: Json;
  batch?: unknown[];
}

const DATA = path.join(ROOT, 'test', 'data', 'cloudevents-conformance');
const cases = (file: string): ConformanceCase[] =>
  (JSON.parse(fs.readFileSync(path.join(DATA, file), 'utf8')) as { tests: ConformanceCase[] }).tests;

export const CONFORMANCE = {
  validEvents: cases('valid-events.json'),
  invalidEvents: cases('invalid-events.json'),
  validBatches: cases('valid-batches.json'),
  invalidBatches: cases('invalid-batches.json'),
};

/**
 * What a receiver sees of a valid event sent on: the attributes as they came,
 * null ones left out, and the datacontenttype a JSON event implies made
 * explicit (JSON format 3.1.2: re-serialised, it SHOULD be set).
 */
export function sentOn(event: Json): Json {
  const out = Object.fromEntries(Object.entries(event).filter(([, v]) => v !== null));
  out.datacontenttype ??= 'application/json';
  return out;
}

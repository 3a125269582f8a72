/**
 * Reading GET /dcevents/metrics as Prometheus does, and promtool (Debian
 * package prometheus) where a test wants Prometheus' own checks.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { needPeer } from './peers';

export const PROMTOOL = '/usr/bin/promtool';

/** One line of the text format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text → samples (label values unescaped). */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the sample of `name` whose labels include `labels`. */
export function valueOf(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    ?.value;
}

/** Skips the calling test without promtool (fails it in strict mode, as in CI: test/support/peers.ts). */
export function needPromtool(ctx: Mocha.Context): void {
  needPeer(
    ctx,
    fs.existsSync(PROMTOOL) ? undefined : 'promtool is not installed (Debian package prometheus)',
  );
}

/** `promtool check metrics` on a scrape: what it finds to say (nothing when the scrape follows the guidelines). */
export function lintScrape(text: string): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile(PROMTOOL, ['check', 'metrics'], (_err, stdout, stderr) =>
      resolve(`${stdout}${stderr}`.trim()),
    );
    child.stdin?.end(text);
  });
}

export const run = promisify(execFile);

/**
 * Which regexes read which place of each decode sample: run in a worker
 * thread, because it replaces RegExp.prototype.exec to watch them, and V8
 * then takes its slow path for every regex of the process, for good.
 */
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { decode } from '../../nodes/events/decode';
import { slots } from './adversarial-inputs';
import { FORMAT_SAMPLES } from './decode-fixtures';

export interface SeenRegex {
  source: string;
  flags: string;
}

/** Per sample, per place (`Slot.where`): the regexes that read its text while the sample decoded. */
export type Readers = Record<string, Record<string, SeenRegex[]>>;

function watch(): Readers {
  const out: Readers = {};
  const exec = RegExp.prototype.exec;
  for (const { name, input: sample } of FORMAT_SAMPLES) {
    const seen: (SeenRegex & { text: string })[] = [];
    RegExp.prototype.exec = function (this: RegExp, text: string) {
      seen.push({ source: this.source, flags: this.flags, text: String(text) });
      return exec.call(this, text);
    };
    try {
      decode(sample, { source: 'https://vcd.example.com' });
    } catch {
      // A refusal still shows what read the input.
    } finally {
      RegExp.prototype.exec = exec;
    }
    out[name] = {};
    for (const { where, value } of slots(sample)) {
      const readers = seen.filter(
        ({ text }) =>
          (value.length >= 2 && text.includes(value)) || (text.length >= 3 && value.includes(text)),
      );
      const unique = new Map(readers.map(({ source, flags }) => [`/${source}/${flags}`, { source, flags }]));
      out[name][where] = [...unique.values()];
    }
  }
  return out;
}

/** Runs the watch in a worker thread and resolves with what it saw. */
export function regexReaders(): Promise<Readers> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(__filename);
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

if (!isMainThread) parentPort?.postMessage(watch());

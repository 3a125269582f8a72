/**
 * Status texts in the runtime's language: a real Node-RED with settings `lang`
 * shows every node's status from its locales (counts included), read over the
 * editor's comms connection as the editor reads it.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { prepareUserDir, startNodeRed, type FlowNode } from '../../sim/nodered';
import { freePort } from '../support/nodered-process';
import { waitFor } from '../support/wait';

const TAB = 'tab';

const CLOUDEVENT = { specversion: '1.0', id: '1', source: 'urn:test', type: 'com.example.test', data: {} };

/** Sends `payload` (JSON) once to `target` as the flow starts. */
const injectOnce = (id: string, payload: string, target: string): FlowNode => ({
  id,
  type: 'inject',
  z: TAB,
  props: [{ p: 'payload' }],
  payload,
  payloadType: 'json',
  once: true,
  onceDelay: 0.1,
  wires: [[target]],
});

/** Nodes whose settings or first input give each a status without any server to talk to. */
const flows: FlowNode[] = [
  { id: TAB, type: 'tab', label: 'statuses' },
  { id: 'login', type: 'vcd-login', url: 'ftp://vcd.example', org: 'System', authType: 'password' },
  { id: 'controller', type: 'aci-controller', hosts: '', authType: 'password' },
  { id: 'vsub', type: 'vcd-subscribe', z: TAB, login: '', topic: 'publish/#', wires: [[]] },
  { id: 'asub', type: 'aci-subscribe', z: TAB, controller: '', subscriptions: 'fvBD', wires: [[]] },
  injectOnce('in1', JSON.stringify(CLOUDEVENT), 'decode'),
  { id: 'decode', type: 'event-decode', z: TAB, format: 'auto', errors: 'catch', wires: [[]] },
  injectOnce('in2', JSON.stringify('{'), 'undecodable'),
  { id: 'undecodable', type: 'event-decode', z: TAB, format: 'auto', errors: 'output', wires: [[], []] },
  {
    id: 'emit',
    type: 'cloudevent-emit',
    z: TAB,
    url: 'http://127.0.0.1:9/events',
    mode: 'binary',
    wires: [[], []],
  },
];

/** What each node shows, per language: plain words, and words with a count. */
const expected: Record<string, Record<string, string>> = {
  'en-US': {
    login: 'bad settings',
    controller: 'bad settings',
    vsub: 'no login',
    asub: 'no controller',
    decode: 'decoded · 1',
    undecodable: 'bad JSON',
    emit: 'ready',
  },
  de: {
    login: 'Einstellung ungültig',
    controller: 'Einstellung ungültig',
    vsub: 'keine Anmeldung',
    asub: 'kein Controller',
    decode: 'dekodiert · 1',
    undecodable: 'JSON ungültig',
    emit: 'bereit',
  },
};

/**
 * Node-RED in `lang`, and the latest status of every node as Node-RED
 * publishes it to the editor (retained: a late joiner gets it at once). Its
 * log speaks `lang` too, so the start is seen on the comms connection.
 */
async function runInLanguage(lang: string) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nr-lang-'));
  prepareUserDir(dir, { port, flows, settings: { lang } });
  const red: ChildProcess = startNodeRed(dir, 'pipe');
  let output = '';
  red.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  red.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const latest = new Map<string, string | undefined>();
  const ws = await waitFor(
    () =>
      new Promise<WebSocket | undefined>((resolve) => {
        if (red.exitCode !== null) throw new Error(`Node-RED exited: ${output}`);
        const socket = new WebSocket(`ws://127.0.0.1:${port}/comms`);
        socket.once('open', () => resolve(socket));
        socket.once('error', () => resolve(undefined));
      }),
    'the editor connection of Node-RED',
    30_000,
  );
  ws.on('message', (data) => {
    for (const m of JSON.parse(String(data)) as { topic: string; data?: { text?: string } }[]) {
      if (m.topic.startsWith('status/')) latest.set(m.topic.slice('status/'.length), m.data?.text);
    }
  });
  ws.send(JSON.stringify({ subscribe: 'status/#' }));
  return {
    latest,
    log: () => output,
    stop: async () => {
      ws.close();
      if (red.exitCode === null) {
        red.kill('SIGINT');
        await new Promise((r) => red.once('exit', r));
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('status texts in the runtime language (real Node-RED)', function () {
  this.timeout(60_000);
  let red: Awaited<ReturnType<typeof runInLanguage>> | undefined;

  afterEach(async () => {
    await red?.stop();
    red = undefined;
  });

  for (const lang of Object.keys(expected)) {
    it(`shows each node's status in ${lang} when the runtime speaks it`, async () => {
      const running = (red = await runInLanguage(lang));
      const want = expected[lang]!;
      const shown = () => Object.fromEntries(Object.keys(want).map((id) => [id, running.latest.get(id)]));
      // The statuses come as the nodes start; what is shown after the wait is compared.
      await waitFor(
        () => Object.keys(want).every((id) => running.latest.get(id) === want[id]),
        lang,
        20_000,
      ).catch(() => undefined);
      assert.deepEqual(shown(), want);
    });
  }
});

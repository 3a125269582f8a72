/**
 * A flow saved before versions were read (no `version`, settings added since
 * missing) deploys and behaves as the same flow saved by the editor today.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import cloudeventEmit from '../../nodes/events/cloudevent-emit';
import eventDecode from '../../nodes/events/event-decode';
import { SinkSimulator } from '../../sim/sink';
import { catchAll, catchNode, collectCaught, helper, loggedText } from '../support/red';
import { ROOT } from '../support/source-files';
import { waitFor } from '../support/wait';

/** The defaults an html file gives a new node (literal values only), read as it ships (its pieces expanded). */
function editorDefaults(file: string): Record<string, unknown> {
  const html = fs.readFileSync(path.join(ROOT, 'dist', file), 'utf8');
  const block = /defaults:\s*\{([\s\S]*?)\n {4}\},/.exec(html)?.[1] ?? '';
  assert.ok(block, `${file} has its defaults`);
  const pairs = [...block.matchAll(/^ {6}(\w+):\s*\{\s*value:\s*('[^']*'|-?\d+(?:\.\d+)?|true|false)/gm)];
  return Object.fromEntries(pairs.map(([, k, v]) => [k, JSON.parse((v as string).replace(/'/g, '"'))]));
}

/** Nodes as an early flow has them: no `version`, and only a few of the settings written today. */
const EARLY = {
  decode: {
    type: 'event-decode',
    name: '',
    format: 'auto',
    source: '',
    keepOriginal: false,
    errors: 'catch',
  },
  emit: {
    type: 'cloudevent-emit',
    name: '',
    url: '',
    mode: 'binary',
    ceType: '',
    ceSource: '',
    ceSubject: '',
  },
};

const notification = {
  eventId: 'e-1',
  type: 'com/vmware/vcloud/event/vm/create',
  timestamp: '2026-11-22T13:45:12.345678+01:00',
  orgName: 'acme',
  userName: 'acmeadmin',
  entity: 'urn:vcloud:vm:1',
  entityType: 'vm',
  entityName: 'web-01',
};

/** event decode → cloudevent emit (no URL: the CloudEvent goes out) → what came out. */
async function run(decode: Record<string, unknown>, emit: Record<string, unknown>): Promise<unknown[]> {
  await helper.load(
    [eventDecode, cloudeventEmit],
    [
      { id: 'tab', type: 'tab' },
      { ...decode, id: 'decode', z: 'tab', wires: [['emit']] },
      { ...emit, id: 'emit', z: 'tab', wires: [['out'], []] },
      { id: 'out', type: 'helper', z: 'tab' },
    ],
  );
  const out: Record<string, unknown>[] = [];
  helper.getNode('out').on('input', (m: Record<string, unknown>) => out.push(m));
  helper.getNode('decode').receive({ payload: JSON.stringify(notification), topic: 'publish/o/u' });
  helper.getNode('decode').receive({ payload: 'not an event' });
  await waitFor(() => out.length === 1, 'the CloudEvent');
  await helper.unload();
  return out.map(({ payload, headers }) => ({ payload, headers }));
}

describe('flows saved by an older version', () => {
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(() => helper.unload());

  it('an event decode → cloudevent emit flow without version sends what a new one sends', async () => {
    const today = await run(
      { type: 'event-decode', ...editorDefaults('nodes/events/event-decode.html') },
      { type: 'cloudevent-emit', ...editorDefaults('nodes/events/cloudevent-emit.html') },
    );
    const old = await run(EARLY.decode, EARLY.emit);
    assert.equal((today[0] as { headers: Record<string, string> }).headers['ce-id'], 'e-1');
    assert.deepEqual(old, today);
  });

  it('a cloudevent emit saved by version 2 (its own URL, token, headers and CA) goes on delivering with them', async () => {
    const sink = await SinkSimulator.start();
    try {
      const saved = {
        id: 'emit',
        type: 'cloudevent-emit',
        z: 'tab',
        url: `${sink.url}/events`,
        mode: 'binary',
        authType: 'bearer',
        headers: 'X-Tenant: acme',
        tlsInsecure: false,
        ca: sink.cert,
        timeout: 10,
        handshake: false,
        retryBudget: 5,
        queueLimit: 1000,
        concurrency: 4,
        onFull: 'wait',
        spool: 'memory',
        spoolLimit: 100,
        version: 2,
        wires: [['out'], []],
      };
      // The credentials file of that flow: the secrets were the node's own.
      const credentials = { emit: { token: 'Legacy-T0ken', secretHeader: 'X-Api-Key: legacy-k3y' } };
      await helper.load(
        [cloudeventEmit, catchNode],
        [{ id: 'tab', type: 'tab' }, saved, { id: 'out', type: 'helper', z: 'tab' }, ...catchAll('tab')],
        credentials,
      );
      const caught = collectCaught();
      const out: Record<string, unknown>[] = [];
      helper.getNode('out').on('input', (m: Record<string, unknown>) => out.push(m));
      helper
        .getNode('emit')
        .receive({ payload: { ok: true }, cloudevent: { id: 'old-1', type: 't', source: '/s' } });
      await waitFor(() => out.length === 1, 'the delivery');
      assert.deepEqual(caught, []);
      assert.equal(sink.received[0]?.event.id, 'old-1');
      assert.deepEqual(
        [sink.log[0]?.authorization, sink.log[0]?.apiKey],
        ['Bearer Legacy-T0ken', 'legacy-k3y'],
      );
      assert.doesNotMatch(loggedText(), /Legacy-T0ken|legacy-k3y/);
    } finally {
      await sink.stop();
    }
  });

  it('an event decode saved with a format under its former name reads as with the new name', async () => {
    const envelope = { type: 'EVENT', headers: {}, payload: JSON.stringify(notification) };
    /** What the node makes of an envelope and of a bare notification: event ids or error codes. */
    const outcome = async (format: string): Promise<unknown[]> => {
      await helper.load(eventDecode, [
        { id: 'tab', type: 'tab' },
        { ...EARLY.decode, format, errors: 'output', id: 'decode', z: 'tab', wires: [['ok'], ['bad']] },
        { id: 'ok', type: 'helper', z: 'tab' },
        { id: 'bad', type: 'helper', z: 'tab' },
      ]);
      const out: Record<string, unknown>[] = [];
      for (const id of ['ok', 'bad'])
        helper.getNode(id).on('input', (m: Record<string, unknown>) => out.push(m));
      helper.getNode('decode').receive({ payload: envelope });
      await waitFor(() => out.length === 1, 'the envelope');
      helper.getNode('decode').receive({ payload: notification });
      await waitFor(() => out.length === 2, 'the notification');
      await helper.unload();
      return out.map((m) => (m.payload as { id?: string }).id ?? (m.error as { code?: string })?.code);
    };
    const former = [await outcome('vcd'), await outcome('vcd-json')];
    assert.deepEqual(former, [await outcome('vcd-envelope'), await outcome('vcd-notification')]);
    assert.equal(former[0]?.[0], 'e-1', 'vcd reads the envelope');
    assert.equal(former[1]?.[1], 'e-1', 'vcd-json reads the notification');
    assert.notDeepEqual(former[0], former[1], 'each is strict about its own message');
  });
});

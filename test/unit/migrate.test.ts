/**
 * Saved settings of older versions are brought up to date in one place per
 * node type, so a flow saved by an older version runs as it did.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, sourceFiles } from '../support/source-files';
import { STEPS, added, currentVersion, migrate, type Step } from '../../nodes/common/migrate';

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  'node-red': { nodes: Record<string, string> };
};

/** A node type's history: version 2 added a spool, version 3 renamed a value. */
const HISTORY: Record<string, readonly Step[]> = {
  emit: [
    added({ spool: 'memory', spoolLimit: 100 }),
    (config) => {
      if (config.onFull === 'drop') config.onFull = 'drop-oldest';
    },
  ],
};

describe('saved settings of older versions', () => {
  it('a flow saved without a version reads as version 1 and gets what later versions added', () => {
    const saved = { id: 'n', type: 'emit', url: 'https://sink', onFull: 'drop' };
    assert.deepEqual(migrate(saved, HISTORY), {
      id: 'n',
      type: 'emit',
      url: 'https://sink',
      onFull: 'drop-oldest',
      spool: 'memory',
      spoolLimit: 100,
      version: 3,
    });
    assert.deepEqual(saved, { id: 'n', type: 'emit', url: 'https://sink', onFull: 'drop' }, 'not changed');
  });

  it('a newer setting keeps the value it was saved with; only what is missing is filled in', () => {
    const saved = { id: 'n', type: 'emit', version: 1, spool: 'disk' };
    assert.deepEqual(migrate(saved, HISTORY), {
      id: 'n',
      type: 'emit',
      version: 3,
      spool: 'disk',
      spoolLimit: 100,
    });
  });

  it('runs the steps from the version saved on, each once', () => {
    let runs = 0;
    const counting: Record<string, readonly Step[]> = {
      t: [() => runs++, () => (runs += 10), () => (runs += 100)],
    };
    assert.equal(migrate({ type: 't', version: 3 }, counting).version, 4);
    assert.equal(runs, 100);
    runs = 0;
    migrate({ type: 't', version: 'garbage' }, counting);
    assert.equal(runs, 111, 'a version that is not a number counts as 1');
  });

  it('settings of the current version, or saved by a newer one, stay as they are', () => {
    const current = { type: 'emit', version: 3, onFull: 'drop' };
    assert.deepEqual(migrate(current, HISTORY), current);
    const newer = { type: 'emit', version: 7, onFull: 'drop', other: 1 };
    assert.equal(migrate(newer, HISTORY), newer);
  });

  it('without steps, a flow saved without a version reads exactly as saved (version 1)', () => {
    const saved = { id: 'n', type: 'aci-request', method: 'GET', maxSize: 16 };
    assert.deepEqual(migrate(saved), { ...saved, version: currentVersion('aci-request') });
  });

  it('event decode saved before version 2 reads the formats under their new names', () => {
    for (const version of [undefined, 1]) {
      const saved = { id: 'n', type: 'event-decode', source: '', version };
      assert.equal(migrate({ ...saved, format: 'vcd' }).format, 'vcd-envelope');
      assert.equal(migrate({ ...saved, format: 'vcd-json' }).format, 'vcd-notification');
      for (const format of ['auto', 'aci', 'vcd-audit', 'vcd-amqp', 'cloudevent']) {
        assert.deepEqual(migrate({ ...saved, format }), { ...saved, format, version: 2 });
      }
    }
    const current = { id: 'n', type: 'event-decode', format: 'vcd-envelope', version: 2 };
    assert.deepEqual(migrate(current), current);
  });

  it('cloudevent emit saved before the spool (version 1, or none) keeps its queue in memory', () => {
    for (const version of [undefined, 1]) {
      const saved = { id: 'n', type: 'cloudevent-emit', url: 'https://sink', onFull: 'wait', version };
      assert.deepEqual(migrate(saved), { ...saved, spool: 'memory', spoolLimit: 100, sink: '', version: 3 });
    }
    const onDisk = { id: 'n', type: 'cloudevent-emit', spool: 'disk', spoolLimit: 5, version: 2 };
    assert.deepEqual(migrate(onDisk), { ...onDisk, sink: '', version: 3 });
  });

  it('cloudevent emit saved before the sink config node names none and keeps its own URL and settings', () => {
    const saved = {
      id: 'n',
      type: 'cloudevent-emit',
      url: 'https://sink',
      authType: 'bearer',
      ca: 'PEM',
      spool: 'memory',
      spoolLimit: 100,
      version: 2,
    };
    assert.deepEqual(migrate(saved), { ...saved, sink: '', version: 3 });
    const current = { id: 'n', type: 'cloudevent-emit', sink: 's', url: '', version: 3 };
    assert.deepEqual(migrate(current), current);
  });

  it('vcd login and aci controller saved before TLS configurations keep their CA and take the environment proxy', () => {
    for (const type of ['vcd-login', 'aci-controller']) {
      const saved = { id: 'n', type, tlsInsecure: true, ca: 'PEM' };
      assert.deepEqual(migrate(saved), { ...saved, tls: '', proxy: '', version: 2 });
      const current = { id: 'n', type, tls: 't', proxy: 'p', tlsInsecure: false, ca: '', version: 2 };
      assert.deepEqual(migrate(current), current);
    }
  });

  it('vcd subscribe saved before "Reach back" reads 24 hours back after a restart', () => {
    const saved = { id: 'n', type: 'vcd-subscribe', topic: 'publish/#', catchUp: true };
    assert.deepEqual(migrate(saved), { ...saved, catchUpMaxAge: 24, dynamic: false, version: 3 });
    const set = {
      id: 'n',
      type: 'vcd-subscribe',
      catchUp: true,
      catchUpMaxAge: 2,
      dynamic: false,
      version: 3,
    };
    assert.deepEqual(migrate(set), set);
  });

  it('vcd subscribe saved before its input (version 2) keeps its own topic; topics by messages stay so', () => {
    const saved = { id: 'n', type: 'vcd-subscribe', topic: 'publish/{org}/+', catchUpMaxAge: 24, version: 2 };
    assert.deepEqual(migrate(saved), { ...saved, dynamic: false, version: 3 });
    const dynamic = {
      id: 'n',
      type: 'vcd-subscribe',
      topic: '',
      catchUpMaxAge: 24,
      dynamic: true,
      version: 3,
    };
    assert.deepEqual(migrate(dynamic), dynamic);
  });

  for (const type of Object.keys(pkg['node-red'].nodes)) {
    it(`${type}: its html's version default is the current version of its steps`, () => {
      assert.ok(type in STEPS, `${type} has an entry in STEPS`);
      const js = pkg['node-red'].nodes[type] as string;
      // As it ships: the version is written by the defaults piece (scripts/editor-pieces.js).
      const html = fs.readFileSync(path.join(ROOT, js.replace(/\.js$/, '.html')), 'utf8');
      const version = Number(/version:\s*\{\s*value:\s*(\d+)/.exec(html)?.[1]);
      assert.equal(version, currentVersion(type));
    });
  }

  it('every node reads its settings through the shared createNode, and so through migrate', () => {
    const direct = sourceFiles('nodes')
      .filter((f) => !f.endsWith(path.join('common', 'glue.ts')))
      .filter((f) => fs.readFileSync(f, 'utf8').includes('RED.nodes.createNode('));
    assert.deepEqual(direct, []);
  });
});

/**
 * Files in the user directory can be made to point elsewhere (a link planted
 * in a node's folder) and writes can fail half way. Whatever is planted, the
 * package never reads, writes or cuts a file through a link, and a write that
 * cannot finish never replaces a file with part of one. (A second process on a
 * spool folder is refused: test/nodes/emit-spool.test.ts and
 * test/unit/spool-log.test.ts.)
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import cloudeventEmit from '../../nodes/events/cloudevent-emit';
import { NodeFiles } from '../../nodes/common/node-files';
import { SinkSimulator } from '../../sim/sink';
import { FaultyDisk } from '../support/faulty-disk';
import { helper } from '../support/red';
import { spoolFlow } from '../support/spool';
import { waitFor } from '../support/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js') as (RED: unknown) => void;

type Msg = Record<string, unknown>;

const CREDENTIALS = '{"$":"node-red credentials"}';

describe('security: links and half-done writes in the user directory', () => {
  let root: string;
  let userDir: string;
  let outside: string;
  let sink: SinkSimulator;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'files-'));
    userDir = path.join(root, 'user');
    outside = path.join(root, 'outside');
    fs.mkdirSync(userDir);
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(userDir, 'flows_cred.json'), CREDENTIALS);
    sink = await SinkSimulator.start({ tls: false });
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    await sink.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  const spoolDir = () => new NodeFiles(userDir, 'spool').pathOf('n', '.d');

  async function load(): Promise<Msg[]> {
    await helper.load([cloudeventEmit, catchNode], spoolFlow(`${sink.url}/events`));
    const caught: Msg[] = [];
    helper.getNode('caught').on('input', (m: Msg) => caught.push(m));
    return caught;
  }

  it('a link planted in a spool folder is never followed: the file it names is not read, written or cut', async () => {
    fs.mkdirSync(spoolDir(), { recursive: true });
    const credentials = path.join(userDir, 'flows_cred.json');
    fs.symlinkSync(credentials, path.join(spoolDir(), '000000000001.seg'));
    fs.linkSync(credentials, path.join(spoolDir(), '000000000002.seg'));
    await load();
    for (let i = 1; i <= 3; i++)
      helper.getNode('n').receive({ payload: { i }, cloudevent: { id: `e-${i}` } });
    await waitFor(() => sink.received.length === 3, 'the events at the sink');
    await helper.unload();
    assert.equal(fs.readFileSync(credentials, 'utf8'), CREDENTIALS);
    assert.ok(
      sink.received.every((r) => !JSON.stringify(r.event).includes('node-red credentials')),
      'nothing of the linked file was sent',
    );
    assert.ok(fs.lstatSync(path.join(spoolDir(), '000000000001.seg')).isSymbolicLink(), 'left alone');
  });

  it('a spool folder that is a link is refused (CE_SPOOL_FAILED); nothing is written where it points', async () => {
    fs.mkdirSync(path.dirname(spoolDir()), { recursive: true });
    fs.symlinkSync(outside, spoolDir());
    const caught = await load();
    await waitFor(() => caught[0], 'the error in Catch');
    assert.equal((caught[0]!.error as { code: string }).code, 'CE_SPOOL_FAILED');
    helper.getNode('n').receive({ payload: { i: 1 }, cloudevent: { id: 'e-1' } });
    await waitFor(() => caught.length === 2, 'the event refused');
    assert.deepEqual(fs.readdirSync(outside), []);
  });

  it("a node's file that is a link is neither read nor written through; a write replaces the link", () => {
    const files = new NodeFiles(userDir, 'vcd-login-tokens');
    const victim = path.join(outside, 'victim.json');
    fs.writeFileSync(victim, '{"token":"someone else\'s"}');
    fs.mkdirSync(files.dir, { recursive: true });
    fs.symlinkSync(victim, files.pathOf('n1'));
    assert.equal(files.read('n1'), undefined, 'not read through the link');
    assert.throws(() => files.append('n1', 'x', '.json'), { code: 'ELOOP' });
    files.write('n1', '{"token":"mine"}');
    assert.equal(fs.readFileSync(victim, 'utf8'), '{"token":"someone else\'s"}');
    assert.equal(fs.lstatSync(files.pathOf('n1')).isFile(), true);
    assert.equal(files.read('n1')?.toString(), '{"token":"mine"}');
  });

  it('a token write that comes back short is finished; one the disk refuses keeps the old token and no temp file', async () => {
    const files = new NodeFiles(userDir, 'vcd-login-tokens');
    files.write('n1', '{"token":"old"}');
    const disk = await new FaultyDisk().install();
    try {
      const chain = JSON.stringify({ token: 'rotated-'.repeat(500) });
      disk.short = true;
      files.write('n1', chain);
      disk.short = false;
      assert.equal(files.read('n1')?.toString(), chain);
      disk.full = true;
      assert.throws(() => files.write('n1', '{"token":"lost"}'), { code: 'ENOSPC' });
    } finally {
      disk.restore();
    }
    assert.equal(JSON.parse(files.read('n1')!.toString()).token, 'rotated-'.repeat(500));
    assert.deepEqual(
      fs.readdirSync(files.dir).filter((n) => n.endsWith('.tmp')),
      [],
    );
  });
});

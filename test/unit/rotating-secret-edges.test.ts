import assert from 'node:assert/strict';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NodeFiles } from '../../nodes/common/node-files';
import { RotatingSecret } from '../../nodes/common/rotating-secret';

const fingerprint = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

describe('rotating secret file: edges', () => {
  let dir: string;
  let files: NodeFiles;
  const open = (key: string | undefined, id = 'node') => new RotatingSecret(files, id, key);
  const store = (content: unknown, id = 'node') => files.write(id, JSON.stringify(content));
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rotating-edges-'));
    files = new NodeFiles(dir, 'tokens');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('forgets the tokens before the one a node starts from', () => {
    const s = open('key');
    s.resolve('t0');
    s.rotated('t1');
    s.rotated('t2');
    const restarted = open('key');
    assert.equal(restarted.resolve('t1'), 't2');
    restarted.rotated('t3');
    assert.equal(open('key').resolve('t0'), 't0', 't0 came before the token started from');
    assert.equal(open('key').resolve('t1'), 't3');
  });

  it('keeps the newest 20,000 fingerprints: the oldest goes with the next rotation', function () {
    this.timeout(20_000);
    const tokens = Array.from({ length: 20_000 }, (_, i) => `t${i}`);
    store({ version: 2, chain: tokens.map(fingerprint), token: 'plain:t19999' });
    const s = open(undefined);
    assert.equal(s.resolve('t0'), 't19999', 'a full chain is read whole');
    s.rotated('t20000');
    assert.equal(open(undefined).resolve('t0'), 't0', 'the oldest is gone');
    assert.equal(open(undefined).resolve('t1'), 't20000', 'the next one is kept');
  });

  it('never hands out a stored token that is not the one its chain ends with', () => {
    store({ version: 2, chain: [fingerprint('t0'), fingerprint('t1')], token: 'plain:planted' });
    assert.equal(open(undefined).resolve('t0'), 't0');
  });

  it('reads a damaged file as nothing newer, without throwing', () => {
    const mine = [fingerprint('t0')];
    const damaged = [
      { version: 2, chain: 5, token: 'plain:t1' },
      { version: 2, chain: mine, token: 5 },
      { version: 2, chain: mine },
      null,
    ];
    for (const content of damaged) {
      store(content);
      assert.equal(open(undefined).resolve('t0'), 't0', JSON.stringify(content));
    }
    for (const token of ['0011', '00'.repeat(12), '', 'zz:yy']) {
      store({ version: 2, chain: mine, token });
      assert.equal(open('key').resolve('t0'), 't0', token);
    }
  });

  describe('files of the first format', () => {
    const legacyDir = () => path.join(dir, 'vcd-login-tokens');
    function writeLegacy(id: string, content: string): string {
      fs.mkdirSync(legacyDir(), { recursive: true });
      const file = path.join(legacyDir(), `${id}.json`);
      fs.writeFileSync(file, content);
      return file;
    }
    function legacyToken(token: string, key: string): string {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', createHash('sha256').update(key).digest(), iv);
      const data = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
      return [iv, cipher.getAuthTag(), data].map((b) => b.toString('hex')).join(':');
    }
    const legacy = (token: string, key = 'key') =>
      JSON.stringify({
        version: 1,
        chain: [fingerprint('t0'), fingerprint(token)],
        token: legacyToken(token, key),
      });

    it('are looked up only for an id that is a whole plain file name', () => {
      for (const id of ['.hidden', 'a b', 'a..b', 'name\n']) {
        const old = writeLegacy(id, legacy('t1'));
        open('key', id).migrateFrom(legacyDir());
        assert.equal(fs.existsSync(old), true, JSON.stringify(id));
        assert.equal(files.read(id), undefined, JSON.stringify(id));
        fs.rmSync(old);
      }
    });

    it('never replace a chain the node has already, and are deleted', () => {
      const s = open('key', 'n1');
      s.resolve('t0');
      s.rotated('t5');
      const old = writeLegacy('n1', legacy('t1'));
      open('key', 'n1').migrateFrom(legacyDir());
      assert.equal(fs.existsSync(old), false);
      assert.equal(open('key', 'n1').resolve('t0'), 't5');
    });

    it('that cannot be read (another key, damaged) are dropped without throwing', () => {
      for (const content of [
        legacy('t1', 'another key'),
        '{not json',
        '{"version":2,"chain":[],"token":"plain:x"}',
      ]) {
        const old = writeLegacy('n1', content);
        open('key', 'n1').migrateFrom(legacyDir());
        assert.equal(fs.existsSync(old), false, content);
        assert.equal(files.read('n1'), undefined, content);
        assert.equal(open('key', 'n1').resolve('t0'), 't0');
      }
    });
  });
});

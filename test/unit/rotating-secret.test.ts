import assert from 'node:assert/strict';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NodeFiles } from '../../nodes/common/node-files';
import { RotatingSecret } from '../../nodes/common/rotating-secret';

describe('rotating secret file', () => {
  let dir: string;
  let files: NodeFiles;
  const open = (key: string | undefined, id = 'node') => new RotatingSecret(files, id, key);
  const stored = (id = 'node') => JSON.parse(files.read(id)!.toString('utf8')) as { token: string };
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rotating-'));
    files = new NodeFiles(dir, 'tokens');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('leads every token of a chain to the newest one', () => {
    const first = open('key');
    assert.equal(first.resolve('t0'), 't0', 'nothing stored yet');
    first.rotated('t1');
    first.rotated('t2');
    // A restart from the token deployed first, or from one a later deploy saved.
    assert.equal(open('key').resolve('t0'), 't2');
    assert.equal(open('key').resolve('t1'), 't2');
    assert.equal(open('key').resolve('t2'), 't2');
  });

  it('starts a new chain for a token that is not part of it', () => {
    const a = open('key');
    a.resolve('t0');
    a.rotated('t1');
    const b = open('key');
    assert.equal(b.resolve('fresh'), 'fresh');
    b.rotated('fresh-1');
    assert.equal(open('key').resolve('t0'), 't0', 'the old chain is gone');
    assert.equal(open('key').resolve('fresh'), 'fresh-1');
  });

  it('keeps the token encrypted, readable by its owner only; another key knows nothing newer', () => {
    const s = open('key');
    s.resolve('t0');
    s.rotated('secret-token-1');
    const file = files.pathOf('node');
    assert.doesNotMatch(fs.readFileSync(file, 'utf8'), /secret-token-1/);
    assert.equal(fs.statSync(file).mode & 0o077, 0);
    assert.equal(open('other key').resolve('t0'), 't0');
  });

  it('binds the token to its node: a file copied to another node is refused', () => {
    const a = open('key', 'a');
    a.resolve('t0');
    a.rotated('t1');
    fs.copyFileSync(files.pathOf('a'), files.pathOf('b'));
    assert.equal(open('key', 'a').resolve('t0'), 't1');
    assert.equal(open('key', 'b').resolve('t0'), 't0', "node b never runs on node a's token");
  });

  it('requires the full 16-byte authentication tag', () => {
    const s = open('key');
    s.resolve('t0');
    s.rotated('t1');
    const file = files.pathOf('node');
    const [iv, tag, data] = stored().token.split(':') as [string, string, string];
    // A 4-byte tag (the start of the right one) is what a forger needs to guess without authTagLength.
    const short = { ...JSON.parse(fs.readFileSync(file, 'utf8')), token: `${iv}:${tag.slice(0, 8)}:${data}` };
    fs.writeFileSync(file, JSON.stringify(short));
    assert.equal(open('key').resolve('t0'), 't0');
  });

  it('stores plain text only where Node-RED stores credentials unencrypted too, and never throws on a bad file', () => {
    const s = open(undefined);
    s.resolve('t0');
    s.rotated('t1');
    assert.equal(open(undefined).resolve('t0'), 't1');
    fs.writeFileSync(files.pathOf('node'), '{not json');
    assert.equal(open(undefined).resolve('t0'), 't0');
    open(undefined).remove();
    assert.equal(fs.existsSync(files.pathOf('node')), false);
  });

  describe('files of the first format (<userDir>/vcd-login-tokens/<id>.json)', () => {
    const legacyDir = () => path.join(dir, 'vcd-login-tokens');
    /** A file as the first release wrote it: AES-256-GCM without additional data. */
    function writeLegacy(id: string, chain: string[], token: string, key = 'key'): string {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', createHash('sha256').update(key).digest(), iv);
      const data = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
      const text = [iv, cipher.getAuthTag(), data].map((b) => b.toString('hex')).join(':');
      const fp = (t: string) => createHash('sha256').update(t).digest('hex');
      fs.mkdirSync(legacyDir(), { recursive: true });
      const file = path.join(legacyDir(), `${id}.json`);
      fs.writeFileSync(file, JSON.stringify({ version: 1, chain: chain.map(fp), token: text }));
      return file;
    }

    it('are moved once to the hashed name, re-encrypted for their node, and deleted', () => {
      const old = writeLegacy('a1b2c3d4.e5f6', ['t0', 't1', 't2'], 't2');
      const s = open('key', 'a1b2c3d4.e5f6');
      s.migrateFrom(legacyDir());
      assert.equal(fs.existsSync(old), false);
      assert.equal(fs.existsSync(legacyDir()), false, 'the emptied old folder goes too');
      assert.equal(s.resolve('t0'), 't2');
      assert.doesNotMatch(fs.readFileSync(files.pathOf('a1b2c3d4.e5f6'), 'utf8'), /t2/);
    });

    it('are never looked up for an id that is not a plain file name', () => {
      const outside = path.join(dir, 'flows_cred.json');
      fs.writeFileSync(outside, '{"keep":true}');
      for (const id of ['../flows_cred', '..', `${dir}/flows_cred`, 'a/../../flows_cred', '']) {
        open('key', id).migrateFrom(legacyDir());
      }
      assert.equal(fs.readFileSync(outside, 'utf8'), '{"keep":true}');
    });
  });
});

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RotatingSecret } from '../../nodes/common/rotating-secret';

describe('rotating secret file', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rotating-'));
    file = path.join(dir, 'tokens', 'node.json');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('leads every token of a chain to the newest one', () => {
    const first = new RotatingSecret(file, 'key');
    assert.equal(first.resolve('t0'), 't0', 'nothing stored yet');
    first.rotated('t1');
    first.rotated('t2');
    // A restart from the token deployed first, or from one a later deploy saved.
    assert.equal(new RotatingSecret(file, 'key').resolve('t0'), 't2');
    assert.equal(new RotatingSecret(file, 'key').resolve('t1'), 't2');
    assert.equal(new RotatingSecret(file, 'key').resolve('t2'), 't2');
  });

  it('starts a new chain for a token that is not part of it', () => {
    const a = new RotatingSecret(file, 'key');
    a.resolve('t0');
    a.rotated('t1');
    const b = new RotatingSecret(file, 'key');
    assert.equal(b.resolve('fresh'), 'fresh');
    b.rotated('fresh-1');
    assert.equal(new RotatingSecret(file, 'key').resolve('t0'), 't0', 'the old chain is gone');
    assert.equal(new RotatingSecret(file, 'key').resolve('fresh'), 'fresh-1');
  });

  it('keeps the token encrypted, readable by its owner only; another key knows nothing newer', () => {
    const s = new RotatingSecret(file, 'key');
    s.resolve('t0');
    s.rotated('secret-token-1');
    assert.doesNotMatch(fs.readFileSync(file, 'utf8'), /secret-token-1/);
    assert.equal(fs.statSync(file).mode & 0o077, 0);
    assert.equal(new RotatingSecret(file, 'other key').resolve('t0'), 't0');
  });

  it('stores plain text only where Node-RED stores credentials unencrypted too, and never throws on a bad file', () => {
    const s = new RotatingSecret(file, undefined);
    s.resolve('t0');
    s.rotated('t1');
    assert.equal(new RotatingSecret(file, undefined).resolve('t0'), 't1');
    fs.writeFileSync(file, '{not json');
    assert.equal(new RotatingSecret(file, undefined).resolve('t0'), 't0');
    new RotatingSecret(file, undefined).remove();
    assert.equal(fs.existsSync(file), false);
  });
});

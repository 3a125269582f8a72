import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NodeFiles, nodeFileName, writeFileAtomic } from '../../nodes/common/node-files';
import { FaultyDisk } from '../support/faulty-disk';

describe('files a node keeps in the user directory', () => {
  let userDir: string;
  beforeEach(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-files-'));
  });
  afterEach(() => fs.rmSync(userDir, { recursive: true, force: true }));

  it('names files by a hash of the node id, so a hostile id never reaches a path', () => {
    const files = new NodeFiles(userDir, 'tokens');
    for (const id of ['../flows_cred', '../../etc/passwd', '/abs', 'a/b', '..', '', 'x\u0000y']) {
      const file = files.pathOf(id);
      assert.equal(path.dirname(file), path.join(userDir, 'dcevents', 'tokens'), id);
      assert.match(path.basename(file), /^[0-9a-f]{32}\.json$/, id);
    }
    assert.equal(nodeFileName('n1'), nodeFileName('n1'), 'stable across runs');
    assert.notEqual(nodeFileName('n1'), nodeFileName('n2'));
  });

  it('refuses purposes and suffixes that could leave its folder', () => {
    assert.throws(() => new NodeFiles(userDir, '../x'));
    assert.throws(() => new NodeFiles(userDir, 'a/b'));
    assert.throws(() => new NodeFiles(userDir, 'tokens').pathOf('n1', '/../../x'));
  });

  it('writes atomically, owner-only, and reads back; remove deletes the node files and folders only', () => {
    const files = new NodeFiles(userDir, 'state');
    files.write('n1', '{"a":1}');
    files.write('n2', '{"b":2}');
    const folder = files.folderOf('n1');
    fs.writeFileSync(path.join(folder, 'segment-1'), 'x');
    assert.equal(files.read('n1')?.toString(), '{"a":1}');
    assert.equal(fs.statSync(files.pathOf('n1')).mode & 0o777, 0o600);
    assert.deepEqual(
      fs.readdirSync(files.dir).filter((n) => n.endsWith('.tmp')),
      [],
      'no temp file left behind',
    );
    files.remove('n1');
    assert.equal(files.read('n1'), undefined);
    assert.equal(fs.existsSync(folder), false);
    assert.equal(files.read('n2')?.toString(), '{"b":2}', 'another node keeps its file');
  });

  it('leaves the previous content when a write cannot complete', () => {
    const file = path.join(userDir, 'f.json');
    writeFileAtomic(file, 'old');
    // A folder where the file should go makes the rename fail: the temp file is cleaned up.
    const blocked = path.join(userDir, 'blocked.json');
    fs.mkdirSync(path.join(blocked, 'inner'), { recursive: true });
    assert.throws(() => writeFileAtomic(blocked, 'new'));
    assert.deepEqual(
      fs.readdirSync(userDir).filter((n) => n.endsWith('.tmp')),
      [],
    );
    assert.equal(fs.readFileSync(file, 'utf8'), 'old');
  });

  describe('on a disk that misbehaves', () => {
    const disk = new FaultyDisk();
    beforeEach(() => disk.install());
    afterEach(() => disk.restore());

    const temps = (dir: string) => fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'));

    it('a write that comes back short is finished, not saved as the file', () => {
      const files = new NodeFiles(userDir, 'tokens');
      const chain = JSON.stringify({ token: 'next-token-'.repeat(100) });
      disk.short = true;
      files.write('n1', chain);
      disk.short = false;
      assert.equal(files.read('n1')?.toString(), chain, 'the whole token chain');
      assert.ok(disk.writes > 1, 'it took more than one write');
    });

    it('a full disk keeps the old file and leaves no temp file behind, however often it is tried', () => {
      const files = new NodeFiles(userDir, 'tokens');
      files.write('n1', '{"token":"old"}');
      disk.full = true;
      for (let i = 0; i < 3; i++)
        assert.throws(() => files.write('n1', '{"token":"new"}'), { code: 'ENOSPC' });
      disk.full = false;
      assert.equal(files.read('n1')?.toString(), '{"token":"old"}');
      assert.deepEqual(temps(files.dir), []);
    });

    it('an append that comes back short is finished; one that fails is cut back, so no torn record stays', () => {
      const files = new NodeFiles(userDir, 'journal');
      files.append('n1', 'first\n', '.log');
      disk.short = true;
      files.append('n1', 'second line\n', '.log');
      disk.short = false;
      disk.full = true;
      assert.throws(() => files.append('n1', 'lost\n', '.log'), { code: 'ENOSPC' });
      disk.full = false;
      files.append('n1', 'third\n', '.log');
      assert.equal(files.read('n1', '.log')?.toString(), 'first\nsecond line\nthird\n');
    });
  });
});

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NodeFiles } from '../../nodes/common/node-files';
import { FaultyDisk } from '../support/faulty-disk';

/** The descriptors this process holds open (Linux). */
const openFiles = () => fs.readdirSync('/proc/self/fd').length;

describe('node files: edges', () => {
  let userDir: string;
  let files: NodeFiles;
  beforeEach(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-files-edges-'));
    files = new NodeFiles(userDir, 'state');
  });
  afterEach(() => fs.rmSync(userDir, { recursive: true, force: true }));
  const temps = () => fs.readdirSync(files.dir).filter((n) => n.endsWith('.tmp'));

  it("keeps a node's folder beside its files, owner-only, and found again", () => {
    const folder = files.folderOf('n1');
    assert.equal(folder, files.pathOf('n1', '.d'), 'the name state is found by after a restart');
    assert.notEqual(folder, files.pathOf('n1', ''));
    assert.equal(fs.statSync(folder).mode & 0o777, 0o700);
    assert.equal(files.folderOf('n1'), folder, 'an existing folder is taken as it is');
    fs.writeFileSync(path.join(folder, 'part'), 'x');
    files.remove('n1');
    assert.equal(fs.existsSync(folder), false, 'removed with what it holds');
    new NodeFiles(userDir, 'never-written').remove('n1');
  });

  it("refuses a node's folder that is a link, and writes nothing where it points", () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'node-files-outside-'));
    try {
      fs.mkdirSync(files.dir, { recursive: true });
      fs.symlinkSync(outside, files.pathOf('n1', '.d'));
      assert.throws(() => files.folderOf('n1'), /is not a folder \(a link\?\)/);
      assert.deepEqual(fs.readdirSync(outside), []);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('closes every file it opens: reads, writes, appends, rewrites', async () => {
    files.write('n1', 'first');
    const before = openFiles();
    for (let i = 0; i < 20; i++) {
      assert.equal(files.read('n1')?.toString(), i === 0 ? 'first' : `v${i - 1}`);
      assert.equal(files.read('missing'), undefined);
      files.write('n1', `v${i}`);
      files.append('n1', 'x', '.log');
      await files.appendAsync('n1', 'y', '.log');
      const rewrite = files.rewrite('n1', '.state');
      await rewrite.write('z');
      await rewrite.commit();
    }
    assert.equal(openFiles(), before);
  });

  it('gives up a rewrite before, after or without a failed write, leaving the file as it was', async () => {
    files.write('n1', 'kept', '.state');
    await files.rewrite('n1', '.state').abandon();
    const failing = files.rewrite('n1', '.other');
    fs.rmSync(files.dir, { recursive: true });
    await assert.rejects(failing.write('lost'), { code: 'ENOENT' });
    await failing.abandon();
  });

  it('a rewrite that cannot take the place of the file leaves no temp file', async () => {
    fs.mkdirSync(path.join(files.pathOf('n1', '.state'), 'inside'), { recursive: true });
    const rewrite = files.rewrite('n1', '.state');
    await rewrite.write('new');
    await assert.rejects(rewrite.commit());
    assert.deepEqual(temps(), []);
  });

  describe('on a disk that misbehaves', () => {
    const disk = new FaultyDisk();
    beforeEach(() => disk.install());
    afterEach(() => disk.restore());

    it('appends and rewrites that come back short are finished, each piece where it belongs', async () => {
      await files.appendAsync('n1', 'first\n', '.log');
      disk.short = true;
      await files.appendAsync('n1', 'second line\n', '.log');
      const rewrite = files.rewrite('n1', '.state');
      await rewrite.write('one ');
      await rewrite.write('two three');
      disk.short = false;
      await rewrite.commit();
      assert.equal(files.read('n1', '.log')?.toString(), 'first\nsecond line\n');
      assert.equal(files.read('n1', '.state')?.toString(), 'one two three');
    });

    it('a disk that takes no more bytes fails the write (EIO) instead of trying for ever; the old content stays', async () => {
      files.write('n1', 'old');
      await files.appendAsync('n1', 'a\n', '.log');
      disk.stalled = true;
      assert.throws(() => files.write('n1', 'new'), { code: 'EIO', message: 'the disk took no more bytes' });
      assert.throws(() => files.append('n1', 'b\n', '.log'), { code: 'EIO' });
      await assert.rejects(files.appendAsync('n1', 'c\n', '.log'), { code: 'EIO' });
      const rewrite = files.rewrite('n1', '.state');
      await assert.rejects(rewrite.write('x'), { code: 'EIO' });
      disk.stalled = false;
      await rewrite.abandon();
      assert.equal(files.read('n1')?.toString(), 'old');
      assert.equal(files.read('n1', '.log')?.toString(), 'a\n');
      assert.deepEqual(temps(), []);
    });
  });
});

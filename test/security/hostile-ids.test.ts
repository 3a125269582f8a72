/**
 * Node ids come from flow files anyone with editor access can write: an id such
 * as `../flows_cred` or an absolute path must never name a file. Whatever the
 * id, a node's files are created and deleted under `<userDir>/dcevents/` only.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { VcdLoginNode } from '../../nodes/vcd/login-api';
import vcdLogin from '../../nodes/vcd/vcd-login';
import vcdSubscribe from '../../nodes/vcd/vcd-subscribe';
import { VcdSimulator } from '../../sim/vcd';
import { helper } from '../support/red';
import { waitFor } from '../support/wait';

/** Every file under `dir`, relative to it, with its content. */
function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const visit = (at: string) => {
    for (const entry of fs.readdirSync(at, { withFileTypes: true })) {
      const file = path.join(at, entry.name);
      if (entry.isDirectory()) visit(file);
      else files.set(path.relative(dir, file), fs.readFileSync(file, 'utf8'));
    }
  };
  visit(dir);
  return files;
}

describe('security: hostile node ids never reach a path', function () {
  let root: string;
  let userDir: string;
  let outside: string;
  let sim: VcdSimulator | undefined;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'hostile-ids-'));
    userDir = path.join(root, 'user');
    outside = path.join(root, 'outside');
    fs.mkdirSync(path.join(userDir, 'vcd-login-tokens'), { recursive: true });
    fs.mkdirSync(outside);
    // What a path built from the id would hit: Node-RED's own files and a file elsewhere.
    fs.writeFileSync(path.join(userDir, 'flows_cred.json'), '{"$":"node-red credentials"}');
    fs.writeFileSync(path.join(outside, 'victim.json'), '{"keep":"me"}');
    helper.settings({ userDir, credentialSecret: 'a-credential-secret' });
  });
  afterEach(async () => {
    await helper.unload();
    await sim?.stop();
    helper.settings({});
    fs.rmSync(root, { recursive: true, force: true });
  });

  const hostileIds = () => [
    '../flows_cred',
    '../../outside/victim',
    path.join(outside, 'victim'),
    '..',
    'a/../../flows_cred',
  ];

  it('keeps, rotates and deletes service-account tokens inside the package folder only', async () => {
    for (const id of hostileIds()) {
      sim = await VcdSimulator.start();
      const before = snapshot(root);
      const flow = [
        { id: 'tab', type: 'tab' },
        { id, type: 'vcd-login', url: sim.url, org: 'acme', authType: 'apiToken', ca: sim.cert },
        {
          id: 'sub',
          type: 'vcd-subscribe',
          z: 'tab',
          login: id,
          topic: 'publish/{org}/+',
          qos: '1',
          wires: [],
        },
      ];
      await helper.load([vcdLogin, vcdSubscribe], flow, { [id]: { apiToken: 'sim-service-account-token' } });
      await waitFor(() => sim!.subscriptions.length === 1, `connected (${id})`);
      // Another renewal: the token file is written again.
      await (helper.getNode(id) as unknown as VcdLoginNode).session!.login();
      const during = snapshot(root);
      const written = [...during.keys()].filter((f) => !before.has(f));
      assert.ok(written.length > 0, `a token file for ${id}`);
      for (const file of written)
        assert.match(file, /^user\/dcevents\/vcd-login-tokens\/[0-9a-f]{32}\.json$/, id);
      // The node is deleted: its file goes, nothing else does.
      await helper.setFlows([{ id: 'tab', type: 'tab' }], 'full', {});
      assert.deepEqual(
        [...snapshot(root).entries()].filter(([f]) => !f.startsWith('user/dcevents/')),
        [...before.entries()].filter(([f]) => !f.startsWith('user/dcevents/')),
        id,
      );
      await helper.unload();
      await sim.stop();
      sim = undefined;
    }
  });

  it('moves a token file of the old location for a plain id, and never looks one up for a hostile id', async () => {
    sim = await VcdSimulator.start();
    // Old-location files: one for a plain id, and what a hostile id would have named.
    const legacy = path.join(userDir, 'vcd-login-tokens', 'a1b2c3.d4e5.json');
    fs.writeFileSync(legacy, '{"version":1,"chain":[],"token":"x"}');
    const before = snapshot(root);
    const flow = [
      { id: 'tab', type: 'tab' },
      ...['a1b2c3.d4e5', ...hostileIds()].map((id) => ({
        id,
        type: 'vcd-login',
        url: sim!.url,
        org: 'acme',
        authType: 'apiToken',
        ca: sim!.cert,
      })),
    ];
    const creds = Object.fromEntries(
      flow.slice(1).map((n) => [n.id, { apiToken: 'sim-api-token-acmeadmin' }]),
    );
    await helper.load([vcdLogin], flow, creds);
    await helper.setFlows([{ id: 'tab', type: 'tab' }], 'full', {});
    assert.equal(fs.existsSync(legacy), false, 'the old file of the plain id is gone');
    const after = snapshot(root);
    for (const [file, content] of before) {
      if (file !== path.relative(root, legacy)) assert.equal(after.get(file), content, file);
    }
  });
});

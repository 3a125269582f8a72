/**
 * With the editor's adminAuth on, the package's admin routes serve only a
 * logged-in user with the right permission, in a real Node-RED.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../sim/nodered';
import { runNodeRed, type RunningNodeRed } from '../support/nodered-process';

// Node-RED's own fallback for password hashes (it prefers a native build when there is one).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const bcrypt = require('bcryptjs') as { hashSync(text: string, rounds: number): string };

/** Every admin route the package registers, read from its sources: a new route is covered without a list to keep. */
function adminRoutes(): { method: string; route: string }[] {
  const routes: { method: string; route: string }[] = [];
  const visit = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(file);
      else if (entry.name.endsWith('.ts')) {
        const text = fs.readFileSync(file, 'utf8');
        for (const m of text.matchAll(/adminPost\(\s*RED,\s*'([^']+)'/g))
          routes.push({ method: 'POST', route: m[1]! });
        for (const m of text.matchAll(/httpAdmin\.(get|post|put|delete)\(\s*'([^']+)'/g)) {
          routes.push({ method: m[1]!.toUpperCase(), route: m[2]! });
        }
      }
    }
  };
  visit(path.join(REPO_ROOT, 'nodes'));
  return routes;
}

describe('security: admin routes with adminAuth on (real Node-RED)', function () {
  this.timeout(60_000);
  let red: RunningNodeRed;
  const routes = adminRoutes();

  before(async () => {
    red = await runNodeRed({
      flows: [{ id: 'tab', type: 'tab', label: 'auth' }],
      settings: {
        adminAuth: {
          type: 'credentials',
          users: [{ username: 'admin', password: bcrypt.hashSync('correct horse', 4), permissions: '*' }],
        },
      },
    });
  });
  after(() => red?.stop());

  const call = (method: string, route: string, headers: Record<string, string> = {}, body = '{}') =>
    fetch(`${red.base}${route}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: method === 'GET' ? undefined : body,
    });

  it('finds the package routes in its sources', () => {
    const names = routes.map((r) => r.route);
    assert.ok(names.includes('/vcd-login/test') && names.includes('/aci-controller/test'), names.join());
  });

  it('answers 401 on every admin route without a token, and with a forged one', async () => {
    for (const { method, route } of routes) {
      assert.equal((await call(method, route)).status, 401, `${method} ${route}`);
      const forged = await call(method, route, { authorization: 'Bearer not-a-token' });
      assert.equal(forged.status, 401, `${method} ${route} with a forged token`);
    }
  });

  it('serves a logged-in user (JSON only)', async () => {
    const login = await fetch(`${red.base}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: 'node-red-admin',
        grant_type: 'password',
        scope: '*',
        username: 'admin',
        password: 'correct horse',
      }),
    });
    assert.equal(login.status, 200);
    const { access_token: token } = (await login.json()) as { access_token: string };
    const auth = { authorization: `Bearer ${token}` };
    for (const { method, route } of routes.filter((r) => r.method === 'POST')) {
      const form = await call(
        method,
        route,
        { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
        'a=b',
      );
      assert.equal(form.status, 415, `${route} refuses a form`);
      const json = await call(method, route, auth);
      assert.equal(json.status, 200, `${route} answers JSON`);
      assert.equal(((await json.json()) as { ok: boolean }).ok, false, 'empty settings cannot connect');
    }
  });
});

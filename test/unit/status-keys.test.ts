/**
 * The status keys and test categories every connecting node shares: a node's
 * own codes come on top of them, and an own key for a shared code wins.
 */
import assert from 'node:assert/strict';
import { CoreConfigCodes } from '../../nodes/common/core-config';
import { NetCodes } from '../../nodes/common/errors';
import {
  REACH_KEYS,
  REQUEST_KEYS,
  SETUP_KEYS,
  statusKeys,
  testCategories,
} from '../../nodes/common/status-keys';

describe('status keys', () => {
  it('turns key → codes lists into one code → key table, the later list winning', () => {
    const table = statusKeys(REACH_KEYS, { authFailed: ['X_AUTH'], refused: [NetCodes.TIMEOUT] });
    assert.deepEqual(table, {
      [NetCodes.TLS_UNTRUSTED]: 'tlsUntrusted',
      [NetCodes.CONNECT_FAILED]: 'unreachable',
      [NetCodes.TIMEOUT]: 'refused',
      X_AUTH: 'authFailed',
    });
  });

  it('a request node refuses and fails to reach as every other does; a subscription shows its settings', () => {
    const request = statusKeys(REQUEST_KEYS);
    assert.equal(request.REQUEST_METHOD_NOT_ALLOWED, 'readOnly');
    assert.equal(request[NetCodes.CONNECT_FAILED], 'unreachable');
    const setup = statusKeys(SETUP_KEYS);
    assert.equal(setup[CoreConfigCodes.MISSING], 'badSettings');
    assert.equal(setup[NetCodes.TLS_HOSTNAME], 'tlsNameMismatch');
    assert.equal(setup[NetCodes.CONNECT_FAILED], undefined, 'a subscription says how it reconnects instead');
  });

  it('a test category: any TLS_* code is tls, then the own and shared tables, else other', () => {
    const category = testCategories({ credentials: ['X_AUTH'], settings: ['TLS_OWN'] });
    assert.equal(category('TLS_OWN'), 'tls');
    assert.equal(category('X_AUTH'), 'credentials');
    assert.equal(category(NetCodes.TIMEOUT), 'connection');
    assert.equal(category(CoreConfigCodes.MISSING), 'settings');
    assert.equal(category('SOMETHING_ELSE'), 'other');
  });
});

import { VcdSession } from '../../nodes/vcd/session';
import { DEFAULT_PASSWORD } from '../../sim/vcd/directory';
import type { VcdSimulator } from '../../sim/vcd';

/** A password session of the simulator's system administrator (administrator@System). */
export function systemAdminSession(sim: VcdSimulator): VcdSession {
  return new VcdSession({
    url: sim.url,
    org: 'System',
    authType: 'password',
    username: 'administrator',
    password: DEFAULT_PASSWORD,
    tls: { ca: sim.cert },
  });
}

/**
 * Saved settings of an older version → the current ones, in one place per node
 * type. Every node's html has a `version` default: the editor saves a new node
 * with it and keeps the number an existing node was saved with. Node-RED hands a
 * node its saved settings as they are (a setting added later is simply missing,
 * and the editor fills it only on import), so each node reads its settings
 * through `migrate`, and a flow saved by an older version runs as it did.
 */

export type Config = Record<string, unknown>;

/**
 * Upgrades settings from one version to the next, on a copy. A node opened and
 * saved in a newer editor keeps its older number, so a step must also hold for
 * settings already in the newer shape: fill what is missing, map only values
 * the newer editor never writes.
 */
export type Step = (config: Config) => void;

/**
 * Settings a version added, each with what a node saved before it did: e.g.
 * `added({ spool: 'memory' })`, as such a node kept its queue in memory.
 */
export function added(defaults: Config): Step {
  return (config) => {
    for (const [key, value] of Object.entries(defaults)) if (config[key] === undefined) config[key] = value;
  };
}

/**
 * Values of a setting that a version renamed, old → new: e.g.
 * `renamed('format', { vcd: 'vcd-envelope' })`. Values the map does not name stay.
 */
export function renamed(key: string, names: Readonly<Record<string, string>>): Step {
  return (config) => {
    const value = config[key];
    if (typeof value === 'string' && Object.hasOwn(names, value)) config[key] = names[value];
  };
}

/** event decode's input formats renamed in its version 2, so that a name says which VCD message it reads. */
export const RENAMED_DECODE_FORMATS: Readonly<Record<string, string>> = {
  vcd: 'vcd-envelope',
  'vcd-json': 'vcd-notification',
};

/**
 * The steps of each node type: `STEPS[type][n - 1]` upgrades version n to n + 1,
 * so the current version is one more than the number of steps, and the html's
 * `version` default says the same (a test holds them together).
 */
export const STEPS: Readonly<Record<string, readonly Step[]>> = {
  'vcd-login': [
    // 1 → 2: a TLS configuration and a proxy (config nodes); a login saved before them keeps its own CA and
    // "skip verification" (read while it names no TLS configuration) and takes the environment's proxy.
    added({ tls: '', proxy: '' }),
  ],
  'vcd-subscribe': [
    // 1 → 2: "Reach back" of Missed events after a restart; before it, a restart began at "now".
    added({ catchUpMaxAge: 24 }),
    // 2 → 3: topics set by messages only; before it, every node had its own topic (and an input is new).
    added({ dynamic: false }),
  ],
  'vcd-blocking-task': [],
  'vcd-request': [],
  'aci-controller': [
    // 1 → 2: as vcd-login.
    added({ tls: '', proxy: '' }),
  ],
  'aci-subscribe': [],
  'aci-request': [],
  'event-decode': [
    // 1 → 2: format names that say which VCD message they read.
    renamed('format', RENAMED_DECODE_FORMATS),
  ],
  'cloudevent-emit': [
    // 1 → 2: the spool; a node saved before it kept what it took in memory.
    added({ spool: 'memory', spoolLimit: 100 }),
    // 2 → 3: the sink config node. A node saved before it names none and keeps its own URL, credentials,
    // headers, TLS, timeout and handshake, which it goes on reading until it is given a sink.
    added({ sink: '' }),
  ],
  'cloudevent-sink': [],
  'alert-gate': [],
  'alert-store': [],
};

export function currentVersion(type: string, steps = STEPS): number {
  return (steps[type]?.length ?? 0) + 1;
}

/** The version settings were saved with: none (before versions were read) counts as 1. */
function savedVersion(version: unknown): number {
  const n = Number(version);
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

/**
 * The settings in the shape the current version reads, `version` included. The
 * settings given are not changed. Settings saved by a newer version than this
 * one (after a downgrade) are returned as they are: there is no step back.
 */
export function migrate<D extends { type: string }>(def: D, steps = STEPS): D {
  const from = savedVersion((def as Config).version);
  const path = steps[def.type] ?? [];
  if (from > path.length + 1) return def;
  const config: Config = { ...def };
  for (const step of path.slice(from - 1)) step(config);
  config.version = path.length + 1;
  return config as D;
}

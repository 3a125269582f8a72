/**
 * The part of the Node-RED runtime API this package uses, typed here so the
 * nodes compile strictly without pulling in the runtime's own (untyped) modules.
 * Only types: nothing in this file exists at run time.
 */

export interface NodeMessage {
  _msgid?: string;
  topic?: string;
  payload?: unknown;
  [key: string]: unknown;
}

export interface NodeStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

export type SendFn = (msg: NodeMessage | (NodeMessage | NodeMessage[] | null)[]) => void;
export type DoneFn = (err?: Error) => void;

export interface NodeDef {
  id: string;
  type: string;
  name?: string;
  z?: string;
  [key: string]: unknown;
}

export interface Node<Creds extends object = Record<string, string | undefined>> {
  id: string;
  type: string;
  name?: string;
  z?: string;
  credentials: Partial<Creds>;
  /** The node's output wires: wires[n] lists the nodes connected to output n. */
  wires?: string[][];
  on(event: 'input', listener: (msg: NodeMessage, send: SendFn, done: DoneFn) => void): void;
  on(event: 'close', listener: (removed: boolean, done: () => void) => void): void;
  send(msg: NodeMessage | (NodeMessage | NodeMessage[] | null)[]): void;
  status(status: NodeStatus | Record<string, never>): void;
  log(message: string): void;
  warn(message: string): void;
  error(error: string | Error, msg?: NodeMessage): void;
  debug(message: string): void;
}

export interface AdminRequest {
  params: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface AdminResponse {
  status(code: number): AdminResponse;
  json(body: unknown): void;
}

type AdminHandler = (req: AdminRequest, res: AdminResponse, next: () => void) => void;

export interface NodeAPI {
  nodes: {
    createNode(node: object, def: NodeDef): void;
    registerType<N, D extends NodeDef>(
      type: string,
      constructor: (this: N, def: D) => void,
      options?: {
        credentials?: Record<string, { type: 'text' | 'password' }>;
        /** Settings the editor reads as RED.settings.<name>; names start with the type in camelCase. */
        settings?: Record<string, { value: unknown; exportable: boolean }>;
      },
    ): void;
    getNode(id: string): unknown;
    /** Every node of the deployed configuration, disabled ones included. */
    eachNode(callback: (node: NodeDef) => void): void;
    getCredentials(id: string): Record<string, string | undefined> | undefined;
    addCredentials(id: string, credentials: Record<string, string | undefined>): void;
  };
  httpAdmin: {
    post(path: string, ...handlers: AdminHandler[]): void;
    get(path: string, ...handlers: AdminHandler[]): void;
  };
  auth: { needsPermission(permission: string): AdminHandler };
  settings: {
    userDir?: string;
    /** The user's key for the credentials file; false: stored unencrypted. */
    credentialSecret?: string | false;
    get?(name: string): unknown;
  };
  events: {
    once(event: 'flows:started', listener: () => void): void;
    removeListener(event: 'flows:started', listener: () => void): void;
  };
  log: { info(m: string): void; warn(m: string): void; error(m: string): void; debug(m: string): void };
  /** Absent under some test runtimes. */
  util?: {
    getMessageProperty(msg: NodeMessage, path: string): unknown;
    /** An environment variable as `node` sees it: its group's, its flow's, the global ones, then the process's. */
    getSetting?(node: unknown, name: string): unknown;
  };
  _(key: string, substitutions?: Record<string, unknown>): string;
  version(): string;
}

/** The credentials of a login by user and password, as registerType declares them (a node adds its others). */
export const LOGIN_CREDENTIALS = { username: { type: 'text' }, password: { type: 'password' } } as const;

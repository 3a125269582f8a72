// The part of node-red-node-test-helper the tests use (the package ships no types).
declare module 'node-red-node-test-helper' {
  import type { EventEmitter } from 'node:events';

  interface SpyCall {
    args: unknown[];
  }
  interface LogSpy {
    getCalls(): SpyCall[];
  }
  interface TestNode extends EventEmitter {
    id: string;
    type: string;
    receive(msg: Record<string, unknown>): void;
    [key: string]: unknown;
  }
  interface SuperTest {
    post(path: string): SuperTestRequest;
    get(path: string): SuperTestRequest;
  }
  interface SuperTestRequest extends PromiseLike<{ status: number; body: unknown }> {
    send(body: unknown): SuperTestRequest;
    set(name: string, value: string): SuperTestRequest;
    expect(status: number): SuperTestRequest;
  }
  type NodeModule = (RED: never) => void;

  const helper: {
    init(runtimePath: string, settings?: Record<string, unknown>): void;
    settings(settings: Record<string, unknown>): Record<string, unknown>;
    load(
      nodes: NodeModule | NodeModule[],
      flow: Record<string, unknown>[],
      credentials?: Record<string, Record<string, string>>,
    ): Promise<void>;
    unload(): Promise<void>;
    getNode(id: string): TestNode;
    startServer(done?: () => void): Promise<void> | void;
    stopServer(done?: () => void): Promise<void> | void;
    log(): LogSpy;
    request(): SuperTest;
    clearFlows(): Promise<void>;
    /** A deploy of `type` (full | flows | nodes), as the editor does it. */
    setFlows(
      flow: Record<string, unknown>[],
      type: string,
      credentials?: Record<string, unknown>,
    ): Promise<void>;
    credentials: { get(id: string): Record<string, string | undefined> | undefined };
  };
  export = helper;
}

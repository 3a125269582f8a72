/**
 * Keeps a secret that the server replaces on every use (a VCD service-account
 * refresh token) across restarts. Node-RED writes credentials to disk only at a
 * deploy, so after a restart a node would start from a token that is long spent.
 * This file remembers the newest token together with a fingerprint of every
 * token of the same chain: a node that starts with any of them (the one first
 * entered, or one a later deploy saved) continues with the newest, while a token
 * typed in anew starts a new chain.
 *
 * The file lives under `<userDir>/dcevents/<purpose>/` with a name hashed from
 * the node id (NodeFiles). The token is encrypted (AES-256-GCM, 16-byte tag)
 * with the secret Node-RED encrypts its credentials with, and the node id is
 * bound in as additional data: a file copied to another node's name is refused.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { NodeFiles } from './node-files';

/** Enough for years of renewals; the oldest fingerprints go first. */
const MAX_CHAIN = 20_000;
const IV_BYTES = 12;
const TAG_BYTES = 16;

interface Stored {
  /** 2: the node id is bound in as additional data (1: the first format, without). */
  version: 1 | 2;
  /** sha256 fingerprints of the chain's tokens, oldest first; the last is the newest token's. */
  chain: string[];
  /** The newest token: `iv:tag:ciphertext` in hex, or `plain:<token>` without a key. */
  token: string;
}

const fingerprint = (secret: string) => createHash('sha256').update(secret, 'utf8').digest('hex');

export class RotatingSecret {
  private chain: string[] = [];
  private readonly key: Buffer | undefined;

  /** `key`: the credential secret (none: stored as plain text, as Node-RED does then). */
  constructor(
    private readonly files: NodeFiles,
    private readonly nodeId: string,
    key: string | undefined,
  ) {
    this.key = key ? createHash('sha256').update(key, 'utf8').digest() : undefined;
  }

  /**
   * The newest token of the chain `configured` belongs to (or `configured`
   * itself when it starts a new one). Never throws: an unreadable file only
   * means there is nothing newer to know.
   */
  resolve(configured: string): string {
    const mine = fingerprint(configured);
    this.chain = [mine];
    const stored = this.read();
    if (!stored) return configured;
    const at = stored.chain.indexOf(mine);
    const newest = at === -1 || stored.version !== 2 ? undefined : this.decrypt(stored.token, true);
    if (newest === undefined || fingerprint(newest) !== stored.chain[stored.chain.length - 1]) {
      return configured;
    }
    // Tokens before the configured one can no longer come back.
    this.chain = stored.chain.slice(at);
    return newest;
  }

  /** Records the token that replaced the newest one. */
  rotated(token: string): void {
    this.chain.push(fingerprint(token));
    if (this.chain.length > MAX_CHAIN) this.chain.splice(0, this.chain.length - MAX_CHAIN);
    const stored: Stored = { version: 2, chain: this.chain, token: this.encrypt(token) };
    this.files.write(this.nodeId, JSON.stringify(stored));
  }

  /** Forgets the chain (the node was deleted). */
  remove(): void {
    this.files.remove(this.nodeId);
  }

  /**
   * Moves a file of the first format (`<legacyDir>/<id>.json`, encrypted without
   * the node id) to its new place, once, and deletes it. Only an id that is a
   * plain file name is looked up: any other id never named a file of ours.
   */
  migrateFrom(legacyDir: string): void {
    if (!/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/.test(this.nodeId) || this.nodeId.includes('..')) return;
    const dir = path.resolve(legacyDir);
    const old = path.join(dir, `${this.nodeId}.json`);
    if (path.dirname(old) !== dir || !fs.existsSync(old)) return;
    if (!this.files.read(this.nodeId)) {
      const legacy = parse(readText(old));
      const token = legacy && legacy.version === 1 ? this.decrypt(legacy.token, false) : undefined;
      if (legacy && token !== undefined) {
        this.files.write(this.nodeId, JSON.stringify({ ...legacy, version: 2, token: this.encrypt(token) }));
      }
    }
    fs.rmSync(old, { force: true });
    try {
      fs.rmdirSync(dir); // the old folder goes with its last file
    } catch {
      // other nodes' files are still in it
    }
  }

  private read(): Stored | undefined {
    return parse(this.files.read(this.nodeId)?.toString('utf8'));
  }

  private encrypt(token: string): string {
    if (!this.key) return `plain:${token}`;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(this.nodeId, 'utf8'));
    const data = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
    return [iv, cipher.getAuthTag(), data].map((b) => b.toString('hex')).join(':');
  }

  /** `bound`: the node id was bound in as additional data (all but the first format). */
  private decrypt(text: string, bound: boolean): string | undefined {
    if (text.startsWith('plain:')) return this.key ? undefined : text.slice(6);
    if (!this.key) return undefined;
    const [iv, tag, data] = text.split(':').map((h) => Buffer.from(h, 'hex'));
    if (iv?.length !== IV_BYTES || tag?.length !== TAG_BYTES || !data) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
      if (bound) decipher.setAAD(Buffer.from(this.nodeId, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
    } catch {
      return undefined; // another key, another node's file, or tampered: nothing newer is known
    }
  }
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function parse(text: string | undefined): Stored | undefined {
  if (text === undefined) return undefined;
  try {
    const stored = JSON.parse(text) as Stored;
    const ok = Array.isArray(stored?.chain) && typeof stored.token === 'string';
    return ok && (stored.version === 1 || stored.version === 2) ? stored : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Keeps a secret that the server replaces on every use (a VCD service-account
 * refresh token) across restarts. Node-RED writes credentials to disk only at a
 * deploy, so after a restart a node would start from a token that is long spent.
 * This file remembers the newest token together with a fingerprint of every
 * token of the same chain: a node that starts with any of them (the one first
 * entered, or one a later deploy saved) continues with the newest, while a token
 * typed in anew starts a new chain. The token is encrypted with the same secret
 * Node-RED uses for its credentials file; the file is readable by its owner only.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Enough for years of renewals; the oldest fingerprints go first. */
const MAX_CHAIN = 20_000;

interface Stored {
  version: 1;
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
    private readonly file: string,
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
    let stored: Stored;
    try {
      stored = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Stored;
    } catch {
      return configured;
    }
    const at = Array.isArray(stored.chain) ? stored.chain.indexOf(mine) : -1;
    const newest = at === -1 ? undefined : this.decrypt(stored.token);
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
    const stored: Stored = { version: 1, chain: this.chain, token: this.encrypt(token) };
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const temp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, JSON.stringify(stored), { mode: 0o600 });
    fs.renameSync(temp, this.file);
  }

  /** Forgets the chain (the node was deleted). */
  remove(): void {
    fs.rmSync(this.file, { force: true });
  }

  private encrypt(token: string): string {
    if (!this.key) return `plain:${token}`;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
    return [iv, cipher.getAuthTag(), data].map((b) => b.toString('hex')).join(':');
  }

  private decrypt(text: unknown): string | undefined {
    if (typeof text !== 'string') return undefined;
    if (text.startsWith('plain:')) return this.key ? undefined : text.slice(6);
    if (!this.key) return undefined;
    const [iv, tag, data] = text.split(':').map((h) => Buffer.from(h, 'hex'));
    if (!iv || !tag || !data) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
    } catch {
      return undefined; // another key (the credential secret changed): nothing newer is known
    }
  }
}

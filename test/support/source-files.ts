/** The package's own sources, read as files by the tests that check their shape. */
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../../..');

/** Every TypeScript source under a folder of the package (declaration files left out). */
export function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.resolve(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(path.resolve(ROOT, dir), entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

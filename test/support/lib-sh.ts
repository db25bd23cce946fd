import { readFileSync } from 'node:fs';
import path from 'node:path';

const libSh = readFileSync(path.resolve(__dirname, '../../../scripts/lib.sh'), 'utf8');

/** A VAR="value" setting of scripts/lib.sh (the pinned versions live there). */
export const libShValue = (name: string): string =>
  libSh
    .split('\n')
    .find((l) => l.startsWith(`${name}="`))
    ?.slice(name.length + 2, -1) ?? '';

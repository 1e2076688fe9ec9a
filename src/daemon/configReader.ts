import { InputError } from '../core/errors';
import { redactBackend } from '../app/config';

/** A JSON object read from the `daemon` config section. */
export type Obj = Readonly<Record<string, unknown>>;
const SECRET_KEYS = new Set(['secret', 'password']);

/** Throws `FK_CONFIG_INVALID` naming the field and the value (secrets and URL credentials masked). */
export function bad(path: string, expected: string, value: unknown): never {
  const key = path.slice(path.lastIndexOf('.') + 1);
  const shown = SECRET_KEYS.has(key) ? "'***'" : typeof value === 'string' ? `'${redactBackend(value)}'` : JSON.stringify(value);
  throw new InputError('FK_CONFIG_INVALID', `${path} must be ${expected}, got ${shown}`);
}

export function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Field readers that name the offending field (`daemon.targets[1].url`) and value. */
export function reader(obj: Obj, at: string) {
  const path = (k: string): string => `${at}.${k}`;
  return {
    str(k: string): string | undefined {
      const v = obj[k];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'string' || v === '') bad(path(k), 'a non-empty string', v);
      return v;
    },
    int(k: string, min: number): number | undefined {
      const v = obj[k];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min) bad(path(k), `an integer >= ${min}`, v);
      return v;
    },
    strings(k: string): string[] | undefined {
      const v = obj[k];
      if (v === undefined || v === null) return undefined;
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) bad(path(k), 'an array of strings', v);
      return v as string[];
    },
    obj(k: string): Obj | undefined {
      const v = obj[k];
      if (v === undefined || v === null) return undefined;
      if (!isObj(v)) bad(path(k), 'an object', v);
      return v;
    },
    unknownKeys(allowed: readonly string[]): void {
      for (const k of Object.keys(obj)) {
        if (!allowed.includes(k)) throw new InputError('FK_CONFIG_INVALID', `${path(k)} is not a known setting (expected one of ${allowed.join(', ')})`);
      }
    },
  };
}


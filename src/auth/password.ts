import { hash, verify } from '@node-rs/argon2';
import { invalid } from '../lib/errors.js';

export const MIN_PASSWORD_LENGTH = 12;
const MAX_PASSWORD_LENGTH = 1024;

/** argon2id with the library's defaults (OWASP's m=19 MiB, t=2, p=1). */
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/** A real argon2id hash to verify against when the user does not exist, so timing does not tell. */
export const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$ZFWWRzVKrywowSqkmla7CA$vt58pUtGFBfjPk11kNAhWW9sbDWYnuhkj3xWTT8jza4';

export function checkPasswordPolicy(password: string, field = 'password'): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw invalid(`${field} must be at least ${MIN_PASSWORD_LENGTH} characters`, { field });
  if (password.length > MAX_PASSWORD_LENGTH) throw invalid(`${field} must be at most ${MAX_PASSWORD_LENGTH} characters`, { field });
}

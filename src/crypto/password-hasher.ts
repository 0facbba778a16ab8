// argon2id password hashing with parameter upgrade on login (OWASP: m=19456 KiB, t=2, p=1).
import { hash, verify } from '@node-rs/argon2';

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Returns whether the password matches; never throws on a malformed hash. */
  verify(storedHash: string, password: string): Promise<boolean>;
  /** Spends the same work as a real verify, for unknown accounts. */
  dummyVerify(password: string): Promise<void>;
  needsRehash(storedHash: string): boolean;
}

export function parseArgon2Params(storedHash: string): Argon2Params | null {
  const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(storedHash);
  if (!match) return null;
  return { memoryCost: Number(match[1]), timeCost: Number(match[2]), parallelism: Number(match[3]) };
}

export interface PasswordHasherObserver {
  /** Called after every verify and dummyVerify with the seconds the argon2 verification took (metrics). */
  onVerify?(seconds: number): void;
}

export function createPasswordHasher(params: Argon2Params, observer: PasswordHasherObserver = {}): PasswordHasher {
  // argon2id is the library default; passing `algorithm` breaks under tsx (see STACK.md).
  const options = { memoryCost: params.memoryCost, timeCost: params.timeCost, parallelism: params.parallelism };
  let dummy: Promise<string> | undefined;
  /** Runs one verification and reports its duration; an observer that throws never changes the result. */
  async function timed<T>(work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      try {
        observer.onVerify?.((performance.now() - started) / 1000);
      } catch {
        // Metrics must not break logins.
      }
    }
  }
  return {
    hash: (password) => hash(password, options),
    async verify(storedHash, password) {
      try {
        return await timed(() => verify(storedHash, password));
      } catch {
        return false;
      }
    },
    async dummyVerify(password) {
      dummy ??= hash('portcullis-dummy-password', options);
      const dummyHash = await dummy;
      await timed(() => verify(dummyHash, password)).catch(() => false);
    },
    needsRehash(storedHash) {
      const current = parseArgon2Params(storedHash);
      return !current || current.memoryCost !== params.memoryCost || current.timeCost !== params.timeCost || current.parallelism !== params.parallelism;
    },
  };
}

// Time and randomness are injected so decisions stay pure and tests stay deterministic.
export interface Clock {
  now(): number; // epoch milliseconds
}

export const systemClock: Clock = { now: () => Date.now() };

export interface Random {
  bytes(length: number): Buffer;
}

// The command table: each `portcullis` command with its help text, options and action.
import type { ParseArgsConfig } from 'node:util';
import type { CliIo } from './io.js';

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  allowPositionals?: boolean;
  /** Returns an exit code, or null for long-running commands that keep the process alive. */
  run(args: { values: Record<string, unknown>; positionals: string[] }, io: CliIo): Promise<number | null>;
}

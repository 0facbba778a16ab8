// Dispatches `portcullis <command> [subcommand]`, prints help, and turns errors into stderr plus a non-zero exit.
import { parseArgs } from 'node:util';
import { isPortcullisError } from '../domain/errors.js';
import type { Command } from './commands.js';
import { UsageError, type CliIo } from './io.js';
import { serveCommand } from './cmd-serve.js';
import { configCommand, keysRotateCommand, migrateCommand } from './cmd-basic.js';
import { orgAddUserCommand, orgCreateCommand, orgListCommand, orgSetSessionLimitsCommand, userCreateCommand, userListCommand, userSetOperatorCommand, userSetRoleCommand, userShowCommand } from './cmd-users.js';
import { clientAddApiCommand, clientAddCommand, clientListCommand } from './cmd-clients.js';
import { blocksListCommand, ipReleaseCommand, ipThrottledCommand, userReset2faCommand, userUnblockCommand } from './cmd-protection.js';
import { mailListCommand } from './cmd-mail.js';
import { webhookAddCommand, webhookDeliveriesCommand, webhookDisableCommand, webhookEnableCommand, webhookListCommand, webhookRemoveCommand, webhookTestCommand } from './cmd-webhooks.js';
import { breachCheckCommand, breachImportCommand } from './cmd-breach.js';
import { ipListImportCommand, ipListListCommand, ipListRemoveCommand } from './cmd-iplist.js';

export const COMMANDS: readonly Command[] = [
  serveCommand,
  migrateCommand,
  configCommand,
  userCreateCommand,
  userListCommand,
  userShowCommand,
  userSetRoleCommand,
  userSetOperatorCommand,
  userUnblockCommand,
  userReset2faCommand,
  blocksListCommand,
  ipThrottledCommand,
  ipReleaseCommand,
  ipListImportCommand,
  ipListListCommand,
  ipListRemoveCommand,
  orgCreateCommand,
  orgListCommand,
  orgAddUserCommand,
  orgSetSessionLimitsCommand,
  clientAddCommand,
  clientAddApiCommand,
  clientListCommand,
  mailListCommand,
  webhookAddCommand,
  webhookListCommand,
  webhookRemoveCommand,
  webhookDisableCommand,
  webhookEnableCommand,
  webhookDeliveriesCommand,
  webhookTestCommand,
  breachImportCommand,
  breachCheckCommand,
  keysRotateCommand,
];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: portcullis <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `portcullis <command> --help` for the options of one command.',
    'Settings come from the environment (PORTCULLIS_*); see `portcullis config`.',
  ].join('\n');
}

function find(argv: string[]): { command: Command; rest: string[] } | null {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(' ');
    const command = COMMANDS.find((c) => c.name === name);
    if (command) return { command, rest: argv.slice(words) };
  }
  return null;
}

/** Returns the exit code, or null when the command keeps running (serve). */
export async function runCli(argv: string[], io: CliIo): Promise<number | null> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.stdout.write(`${overview()}\n`);
    return argv.length === 0 ? 1 : 0;
  }
  const found = find(argv);
  if (!found) {
    const group = COMMANDS.filter((c) => c.name.startsWith(`${argv[0]} `));
    if (group.length > 0 && (argv.length === 1 || argv[1] === '--help')) {
      io.stdout.write(`Usage:\n${group.map((c) => `  ${c.usage.split('\n')[0]}\n      ${c.summary}`).join('\n')}\n`);
      return argv[1] === '--help' ? 0 : 1;
    }
    io.stderr.write(`portcullis: unknown command "${argv.slice(0, 2).join(' ')}".\n\n${overview()}\n`);
    return 2;
  }
  const { command, rest } = found;
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`${command.summary}\n\nUsage: ${command.usage}\n`);
    return 0;
  }
  try {
    const parsed = parseArgs({ args: rest, options: command.options, allowPositionals: command.allowPositionals ?? false, strict: true });
    return await command.run({ values: parsed.values as Record<string, unknown>, positionals: parsed.positionals }, io);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`portcullis ${command.name}: ${(error as Error).message}\nUsage: ${command.usage.split('\n')[0]}\nRun \`portcullis ${command.name} --help\` for details.\n`);
      return 2;
    }
    if (isPortcullisError(error)) {
      io.stderr.write(`portcullis ${command.name}: ${error.status >= 500 && error.detail ? error.detail : error.publicMessage}\n`);
      return 1;
    }
    io.stderr.write(`portcullis ${command.name}: ${(error as Error).message}\n`);
    return 1;
  }
}

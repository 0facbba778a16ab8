// Process entry: hands the command line to the CLI and exits with its status.
import { runCli } from './cli/run-cli.js';

const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env });
if (code !== null) process.exitCode = code;

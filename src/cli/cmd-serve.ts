// `portcullis serve`: runs the server, prints the first-run links, and shuts down gracefully on SIGTERM.
import { createApp } from '../app.js';
import { loadConfig } from '../config/index.js';
import type { Command } from './commands.js';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Run the identity provider (migrates the database first)',
  usage: 'portcullis serve',
  options: {},
  async run(_args, io) {
    const config = loadConfig(io.env);
    const app = await createApp({ config });
    await app.server.listen({ port: config.port, host: config.host });
    app.mailWorker.start();
    app.webhookWorker.start();
    const setup = await app.createSetupLink();
    const lines = [`${config.productName} is listening on port ${config.port}; issuer ${config.issuer}`];
    if (config.secretSource === 'generated') lines.push(`Using a development secret generated in ${config.dataDir}/dev-secret.`);
    if (!config.smtpUrl) lines.push(`Mail goes to the dev mailbox (no SMTP configured): ${config.publicUrl}/dev/mail`);
    if (setup) lines.push('', 'No account exists yet. Create the first admin here (the link works once):', `  ${config.publicUrl}${setup}`);
    if (config.demo && !config.isProduction) lines.push('', 'Try a real sign-in with the demo app:', `  ${config.publicUrl}/demo`);
    io.stdout.write(`${lines.join('\n')}\n`);
    app.logger.info({ setupLinkPrinted: setup !== null }, 'ready');
    const runJobs = () => app.runPeriodicJobs().catch((error: unknown) => app.logger.error({ err: error }, 'periodic job failed'));
    void runJobs();
    setInterval(runJobs, 3_600_000).unref();
    // Session limits end sessions on their own; the sweep records it and tells the apps (back-channel logout).
    const sweep = () => app.runSessionSweep().catch((error: unknown) => app.logger.error({ err: error }, 'session sweep failed'));
    setInterval(sweep, 15_000).unref();
    let closing = false;
    const shutdown = (signal: string) => {
      if (closing) return;
      closing = true;
      app.logger.info({ signal }, 'shutting down');
      const force = setTimeout(() => process.exit(1), 10_000);
      force.unref();
      app.close().then(
        () => process.exit(0),
        (error: unknown) => {
          app.logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
    return null;
  },
};

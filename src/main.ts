import { startApp } from './app.js';
import { probeChainId } from './chain/rpc.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { scrubSecrets } from './errors.js';

/** `npm start`: configuration from the environment, then one replica until SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = await loadConfig(process.env, (url) => probeChainId(url));
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const problem of err.problems) console.error(`xmsg: config: ${problem}`);
      process.exit(2);
    }
    throw err;
  }
  const app = await startApp(config);
  const shutdown = (signal: string) => {
    app.log.info({ signal }, 'shutting down');
    // A second signal while draining means "now".
    process.once(signal, () => process.exit(1));
    app.stop().then(
      (outcome) => process.exit(outcome.clean ? 0 : 1),
      (err) => {
        app.log.error({ err }, 'unclean shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err) => {
  // Printed as text, scrubbed: a start that failed on a URL (Redis, a chat API) must not print its password or key.
  console.error(`xmsg: fatal: ${scrubSecrets(err instanceof Error ? (err.stack ?? err.message) : String(err))}`);
  process.exit(1);
});

#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, loadConfig } from '../lib/config.ts';
import { TollgateStack } from '../lib/stack.ts';

const app = new App();
let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(app);
} catch (err) {
  // One line naming the setting, not a stack trace.
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}
new TollgateStack(app, app.node.tryGetContext('tollgate:stackName') ?? 'Tollgate', { config });
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();

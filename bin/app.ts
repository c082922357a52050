#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { TollgateStack } from '../lib/stack.ts';
import { loadConfig } from './config.ts';

const app = new App();
new TollgateStack(app, app.node.tryGetContext('tollgate:stackName') ?? 'Tollgate', {
  config: loadConfig(app),
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();

/** The structured JSON logger every handler shares. Log lines never carry keys, hashes or credentials. */
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: 'tollgate' });

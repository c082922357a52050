/** Tollgate's DynamoDB tables, built from the schema the local gateway uses too. */
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, StreamViewType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { TABLES, type TableName } from '#shared/store/schema.ts';

/** Props of {@link TollgateTables}. */
export interface TollgateTablesProps {
  /** The customer-managed key every table is encrypted with. */
  readonly key: IKey;
}

/**
 * On-demand tables with point-in-time recovery, deletion protection and a customer-managed key, retained
 * when the stack is deleted (they hold keys, credentials and the request log). Configuration tables
 * stream NEW_AND_OLD_IMAGES for the audit pipeline.
 */
export class TollgateTables extends Construct {
  readonly tables: Readonly<Record<TableName, Table>>;

  constructor(scope: Construct, id: string, props: TollgateTablesProps) {
    super(scope, id);
    const build = (name: TableName, constructId: string): Table => {
      const spec: (typeof TABLES)[TableName] = TABLES[name];
      return new Table(this, constructId, {
        partitionKey: { name: spec.partitionKey, type: AttributeType.STRING },
        ...('sortKey' in spec ? { sortKey: { name: spec.sortKey, type: AttributeType.STRING } } : {}),
        billingMode: BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: true,
        removalPolicy: RemovalPolicy.RETAIN,
        encryption: TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: props.key,
        ...(spec.stream ? { stream: StreamViewType.NEW_AND_OLD_IMAGES } : {}),
        ...('ttlAttribute' in spec ? { timeToLiveAttribute: spec.ttlAttribute } : {}),
      });
    };
    this.tables = {
      keys: build('keys', 'Keys'),
      teams: build('teams', 'Teams'),
      providers: build('providers', 'Providers'),
      usage: build('usage', 'Usage'),
      requestLog: build('requestLog', 'RequestLog'),
      audit: build('audit', 'Audit'),
    };
  }
}

/** Tollgate's DynamoDB tables, built from the schema the local gateway uses too. */
import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  ProjectionType,
  StreamViewType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { TABLES, type TableName, type TableSpec } from '#shared/store/schema.ts';

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
      const spec: TableSpec = TABLES[name];
      const table = new Table(this, constructId, {
        partitionKey: { name: spec.partitionKey, type: AttributeType.STRING },
        ...(spec.sortKey === undefined
          ? {}
          : { sortKey: { name: spec.sortKey, type: AttributeType.STRING } }),
        billingMode: BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: true,
        removalPolicy: RemovalPolicy.RETAIN,
        encryption: TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: props.key,
        ...(spec.stream ? { stream: StreamViewType.NEW_AND_OLD_IMAGES } : {}),
        ...(spec.ttlAttribute === undefined ? {} : { timeToLiveAttribute: spec.ttlAttribute }),
      });
      for (const index of spec.indexes ?? []) {
        table.addGlobalSecondaryIndex({
          indexName: index.name,
          partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
          sortKey: { name: index.sortKey, type: AttributeType.STRING },
          projectionType: ProjectionType.ALL,
        });
      }
      return table;
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

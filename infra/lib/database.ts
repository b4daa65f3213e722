import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

export interface DatabaseProps {
  /** Deletion protection and RETAIN (prod); a dev stack's table goes away with the stack. */
  readonly protectData: boolean;
}

/**
 * The recipes table, exactly as `gota-api table-schema` describes it (a test compares the two):
 * recipes and idempotency records in one table keyed `pk`/`sk`, the `by_id` index for reads by
 * recipe id, and TTL on `expires_at` so idempotency records expire after 24 h.
 */
export class Database extends Construct {
  static readonly BY_ID_INDEX = 'by_id';

  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Recipes', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expires_at',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.protectData,
      removalPolicy: props.protectData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: Database.BY_ID_INDEX,
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }
}

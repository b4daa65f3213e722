import { Duration } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

/** The two stages this app knows. Each is one stack: `Gota-dev`, `Gota-prod`. */
export type StageName = 'dev' | 'prod';

/**
 * Everything that differs between stages, decided in one place. `bin/gota.ts` builds it from
 * CDK context (`-c stage=prod -c alarmEmail=…`); constructs only ever receive it as props.
 */
export interface StageConfig {
  readonly stage: StageName;
  /** Keep data when the stack or a resource is deleted; turn on deletion protection. */
  readonly protectData: boolean;
  readonly logRetention: RetentionDays;
  /** Stage-wide API Gateway throttling (requests/s steady state and burst). */
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  /**
   * The origin API Gateway's preflights and gateway responses allow (`*` for any). Every
   * `/recipes` call sends `Authorization`, so needs a preflight: this is what limits browser
   * callers. The function's own responses always say `*` (the binary's CORS layer). Bearer
   * tokens travel in a header, never in cookies, so `*` does not let another site act as the user.
   */
  readonly corsAllowOrigin: string;
  /** Let people create their own accounts in the user pool. Off: an administrator creates users. */
  readonly selfSignUp: boolean;
  readonly alarmEmail?: string;
  /** HTTPS endpoint subscribed to the alarm topic (a chat relay; see doc/operations.md). */
  readonly alarmWebhookUrl?: string;
  /** Published doc/operations.md (e.g. its page in the repository); chat alerts link runbooks there. */
  readonly runbookUrl?: string;
  readonly alarms: AlarmThresholds;
  /** A WAF web ACL on the stage (AWS common rules + a per-IP rate limit); none when undefined. */
  readonly waf?: { readonly requestsPerIpPer5Minutes: number };
}

/** Alarm thresholds; the reasoning for each value is in doc/operations.md. */
export interface AlarmThresholds {
  /** Percentage of requests answered 5xx in a 5-minute period. */
  readonly api5xxRatePercent: number;
  /** Below this many requests in 5 minutes the 5xx rate is not judged (one error in 3 is noise). */
  readonly api5xxMinRequests: number;
  readonly apiP99Latency: Duration;
  /**
   * Percentage of requests answered 401 in a 5-minute period. Expired tokens make a few; a
   * broken authorizer (wrong pool, scope, or client) makes nearly all of them.
   */
  readonly apiUnauthorizedRatePercent: number;
  /** Below this many requests in 5 minutes the 401 rate is not judged. */
  readonly apiUnauthorizedMinRequests: number;
  /** Alarm when no request at all reaches the stage for this long; no alarm when undefined. */
  readonly noTrafficMinutes?: number;
  /** Function errors (crashes, timeouts; not 5xx responses) in 5 minutes. */
  readonly lambdaErrors: number;
  readonly lambdaThrottles: number;
  readonly dynamoThrottles: number;
}

const DEFAULT_ALARMS: AlarmThresholds = {
  api5xxRatePercent: 1,
  api5xxMinRequests: 20,
  apiP99Latency: Duration.millis(1500),
  apiUnauthorizedRatePercent: 25,
  apiUnauthorizedMinRequests: 20,
  lambdaErrors: 1,
  lambdaThrottles: 1,
  dynamoThrottles: 1,
};

export interface StageOverrides {
  readonly corsAllowOrigin?: string;
  readonly selfSignUp?: boolean;
  readonly alarmEmail?: string;
  readonly alarmWebhookUrl?: string;
  readonly runbookUrl?: string;
  /** Attach the WAF web ACL (`-c waf=true`); meant for prod. */
  readonly waf?: boolean;
}

export function stageConfig(stage: StageName, overrides: StageOverrides = {}): StageConfig {
  if (overrides.alarmWebhookUrl !== undefined && !overrides.alarmWebhookUrl.startsWith('https://')) {
    throw new Error(`alarmWebhookUrl must be an https:// URL, got ${overrides.alarmWebhookUrl}`);
  }
  if (overrides.runbookUrl !== undefined && !overrides.runbookUrl.startsWith('https://')) {
    throw new Error(`runbookUrl must be an https:// URL, got ${overrides.runbookUrl}`);
  }
  const prod = stage === 'prod';
  return {
    stage,
    protectData: prod,
    logRetention: prod ? RetentionDays.THREE_MONTHS : RetentionDays.TWO_WEEKS,
    throttle: prod ? { rateLimit: 100, burstLimit: 200 } : { rateLimit: 20, burstLimit: 40 },
    corsAllowOrigin: overrides.corsAllowOrigin ?? '*',
    selfSignUp: overrides.selfSignUp ?? false,
    alarmEmail: overrides.alarmEmail,
    alarmWebhookUrl: overrides.alarmWebhookUrl,
    runbookUrl: overrides.runbookUrl,
    // Prod has the synthetic canary's steady traffic (and real users); a dev stage is often idle.
    alarms: prod ? { ...DEFAULT_ALARMS, noTrafficMinutes: 30 } : DEFAULT_ALARMS,
    // 1,500 per 5 minutes is 5 requests/s from one address, sustained: far above one person or
    // script, well under the stage throttle, so one client cannot take the stage's whole budget.
    ...(overrides.waf && { waf: { requestsPerIpPer5Minutes: 1500 } }),
  };
}

/**
 * A boolean CDK context value: `-c key=true` arrives as the string "true", a `cdk.json` or
 * `new App({context})` value as a JSON boolean. Anything else is refused, never read as false.
 */
export function parseBooleanContext(key: string, value: unknown): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new Error(`context ${key} must be true or false, got ${JSON.stringify(value)}`);
}

export function parseStage(value: unknown): StageName {
  if (value === undefined || value === 'dev') return 'dev';
  if (value === 'prod') return 'prod';
  throw new Error(`stage must be "dev" or "prod", got ${JSON.stringify(value)}`);
}

import * as apigateway from 'aws-cdk-lib/aws-apigateway';

/** One response API Gateway sends by itself, before or instead of the function. */
export interface GatewayResponseSpec {
  readonly id: string;
  readonly options: apigateway.GatewayResponseOptions;
}

interface Problem {
  readonly type: apigateway.ResponseType;
  readonly status: number;
  /** Last part of `urn:gota:problem:<kind>`; the binary's own kinds where one fits. */
  readonly kind: string;
  readonly title: string;
  readonly detail: string;
  readonly extraHeaders?: Record<string, string>;
}

const R = apigateway.ResponseType;

/**
 * Every response type API Gateway documents, mapped to the binary's problem+json shape. Two
 * changes of status: a path with no route is MISSING_AUTHENTICATION_TOKEN (403) in API Gateway,
 * which the contract calls 404; DEFAULT_5XX (a function that crashed or timed out) is a 502.
 * (A wrong method on a served path is not one of these: every method API Gateway can route
 * exists there and reaches the function, which answers 405 + `Allow`; see api.ts.) The detail
 * is fixed text: API Gateway's own message can echo request data.
 */
const PROBLEMS: readonly Problem[] = [
  {
    type: R.UNAUTHORIZED,
    status: 401,
    kind: 'unauthenticated',
    title: 'Unauthorized',
    detail: 'This request needs a valid `Authorization: Bearer <token>` header.',
    extraHeaders: { 'WWW-Authenticate': 'Bearer' },
  },
  {
    type: R.MISSING_AUTHENTICATION_TOKEN,
    status: 404,
    kind: 'not-found',
    title: 'Not Found',
    detail: 'No such resource.',
  },
  { type: R.RESOURCE_NOT_FOUND, status: 404, kind: 'not-found', title: 'Not Found', detail: 'No such resource.' },
  { type: R.ACCESS_DENIED, status: 403, kind: 'forbidden', title: 'Forbidden', detail: 'Access denied.' },
  { type: R.EXPIRED_TOKEN, status: 403, kind: 'forbidden', title: 'Forbidden', detail: 'The token has expired.' },
  { type: R.INVALID_SIGNATURE, status: 403, kind: 'forbidden', title: 'Forbidden', detail: 'Invalid signature.' },
  { type: R.INVALID_API_KEY, status: 403, kind: 'forbidden', title: 'Forbidden', detail: 'Invalid API key.' },
  { type: R.WAF_FILTERED, status: 403, kind: 'forbidden', title: 'Forbidden', detail: 'Request blocked.' },
  {
    type: R.BAD_REQUEST_BODY,
    status: 400,
    kind: 'bad-request',
    title: 'Bad Request',
    detail: 'The request body is not acceptable.',
  },
  {
    type: R.BAD_REQUEST_PARAMETERS,
    status: 400,
    kind: 'bad-request',
    title: 'Bad Request',
    detail: 'The request parameters are not acceptable.',
  },
  {
    type: R.REQUEST_TOO_LARGE,
    status: 413,
    kind: 'payload-too-large',
    title: 'Payload Too Large',
    detail: 'The request body is too large.',
  },
  {
    type: R.UNSUPPORTED_MEDIA_TYPE,
    status: 415,
    kind: 'unsupported-media-type',
    title: 'Unsupported Media Type',
    detail: 'The request body must be JSON.',
  },
  {
    type: R.THROTTLED,
    status: 429,
    kind: 'too-many-requests',
    title: 'Too Many Requests',
    detail: 'Too many requests; retry after a short wait.',
    extraHeaders: { 'Retry-After': '1' },
  },
  {
    type: R.QUOTA_EXCEEDED,
    status: 429,
    kind: 'too-many-requests',
    title: 'Too Many Requests',
    detail: 'Request quota exceeded.',
  },
  {
    type: R.INTEGRATION_FAILURE,
    status: 504,
    kind: 'unavailable',
    title: 'Gateway Timeout',
    detail: 'The service did not answer.',
  },
  {
    type: R.INTEGRATION_TIMEOUT,
    status: 504,
    kind: 'unavailable',
    title: 'Gateway Timeout',
    detail: 'The service did not answer in time.',
  },
  {
    type: R.AUTHORIZER_FAILURE,
    status: 500,
    kind: 'internal',
    title: 'Internal Server Error',
    detail: 'The request could not be authorized because of an internal error.',
  },
  {
    type: R.AUTHORIZER_CONFIGURATION_ERROR,
    status: 500,
    kind: 'internal',
    title: 'Internal Server Error',
    detail: 'The request could not be authorized because of an internal error.',
  },
  {
    type: R.API_CONFIGURATION_ERROR,
    status: 500,
    kind: 'internal',
    title: 'Internal Server Error',
    detail: 'Internal error.',
  },
  { type: R.DEFAULT_4XX, status: 400, kind: 'bad-request', title: 'Bad Request', detail: 'The request was refused.' },
  { type: R.DEFAULT_5XX, status: 502, kind: 'internal', title: 'Bad Gateway', detail: 'Internal error.' },
];

/** Quote a literal for a gateway response header (API Gateway wants `'value'`). */
const literal = (value: string) => `'${value}'`;

/**
 * Responses API Gateway sends itself, so they carry their own CORS headers: the configured
 * origin, and the response's extra headers (`WWW-Authenticate`, `Retry-After`) exposed to
 * scripts, as the binary exposes `Retry-After` on its 503s.
 */
export function gatewayResponses(corsAllowOrigin: string): GatewayResponseSpec[] {
  return PROBLEMS.map((p) => ({
    id: p.type.responseType.toLowerCase().replace(/_(.)/g, (_, c: string) => c.toUpperCase()),
    options: {
      type: p.type,
      statusCode: String(p.status),
      responseHeaders: Object.fromEntries(
        Object.entries({
          'Content-Type': 'application/problem+json',
          'Cache-Control': 'no-store',
          'X-Content-Type-Options': 'nosniff',
          'Access-Control-Allow-Origin': corsAllowOrigin,
          ...(p.extraHeaders && { 'Access-Control-Expose-Headers': Object.keys(p.extraHeaders).join(', ') }),
          ...p.extraHeaders,
        }).map(([name, value]) => [name, literal(value)]),
      ),
      templates: {
        'application/json': JSON.stringify({
          type: `urn:gota:problem:${p.kind}`,
          title: p.title,
          status: p.status,
          detail: p.detail,
        }),
      },
    },
  }));
}

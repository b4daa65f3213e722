/** The REST API's routes, read back from a synthesized template. */
import type { Template } from 'aws-cdk-lib/assertions';

export interface Route {
  readonly method: string;
  readonly path: string;
  readonly authorizationType: string;
  readonly authorizerId?: unknown;
  readonly integrationType: string;
  readonly integrationUri?: unknown;
  /** A mock preflight's `Access-Control-Allow-Methods`, as a list. */
  readonly preflightAllowMethods?: string[];
}

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

export function routes(template: Template): Route[] {
  const resources = template.toJSON().Resources as Resources;
  const pathOf = (ref: unknown): string => {
    const r = ref as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
    if (r['Fn::GetAtt']?.[1] === 'RootResourceId') return '';
    const resource = resources[r.Ref!]!;
    if (resource.Type !== 'AWS::ApiGateway::Resource') throw new Error(`unexpected parent ${r.Ref}`);
    return `${pathOf(resource.Properties.ParentId)}/${String(resource.Properties.PathPart)}`;
  };
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::ApiGateway::Method')
    .map(({ Properties: p }) => {
      const integration = p.Integration as {
        Type: string;
        Uri?: unknown;
        IntegrationResponses?: { ResponseParameters?: Record<string, string> }[];
      };
      const allow =
        integration.IntegrationResponses?.[0]?.ResponseParameters?.['method.response.header.Access-Control-Allow-Methods'];
      return {
        method: String(p.HttpMethod),
        path: pathOf(p.ResourceId) || '/',
        authorizationType: String(p.AuthorizationType),
        authorizerId: p.AuthorizerId,
        integrationType: integration.Type,
        integrationUri: integration.Uri,
        preflightAllowMethods: allow?.replace(/^'|'$/g, '').split(','),
      };
    });
}

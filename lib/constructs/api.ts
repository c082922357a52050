/**
 * The regional REST API: every route of the shared route table, proxied to the streaming proxy Lambda
 * with `responseTransferMode: STREAM`; the REQUEST authorizer on every route that needs a key; gateway
 * responses rewritten into OpenAI's error shape; stage throttling and access logs that carry no headers.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  IdentitySource,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RequestAuthorizer,
  ResponseTransferMode,
  ResponseType,
  RestApi,
  SecurityPolicy,
} from 'aws-cdk-lib/aws-apigateway';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { hasAuthorizer, proxyChecksKey, ROUTES } from '#shared/routes.ts';
import { AWS_LIMITS } from '../aws-limits.ts';
import {
  GATEWAY_RESPONSES,
  gatewayResponseHeaders,
  gatewayResponseTemplate,
  PREFLIGHT_ALLOW_HEADERS,
} from '../gateway-responses.ts';

/** Props of {@link TollgateApi}. */
export interface TollgateApiProps {
  /** Unique per account and region: the REST API's name (and, through it, the dashboard's). */
  readonly apiName: string;
  readonly authorizer: IFunction;
  readonly proxy: IFunction;
  readonly stageName: string;
  readonly authorizerCacheTtlSeconds: number;
  readonly throttleRateLimit: number;
  readonly throttleBurstLimit: number;
  readonly logRetention: RetentionDays;
  readonly corsOrigins: readonly string[];
  readonly customDomain?: { readonly domainName: string; readonly certificateArn: string } | undefined;
  readonly wafWebAclArn?: string | undefined;
}

/**
 * Access log fields. Deliberately no headers, no query string and no path parameters: keys travel in
 * headers (and, for Gemini clients, in `?key=`), so none of them may reach a log.
 */
export const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  sourceIp: '$context.identity.sourceIp',
  httpMethod: '$context.httpMethod',
  resourcePath: '$context.resourcePath',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integration.latency',
  keyId: '$context.authorizer.principalId',
  authorizerError: '$context.authorizer.error',
  errorType: '$context.error.responseType',
} as const;

export class TollgateApi extends Construct {
  readonly api: RestApi;
  /** Cached on `Authorization`: OpenAI clients' routes. */
  readonly authorizer: RequestAuthorizer;

  constructor(scope: Construct, id: string, props: TollgateApiProps) {
    super(scope, id);
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: props.logRetention });
    this.api = new RestApi(this, 'Api', {
      restApiName: props.apiName,
      description: 'Tollgate LLM API gateway',
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      ...(props.customDomain === undefined
        ? {}
        : {
            domainName: {
              domainName: props.customDomain.domainName,
              certificate: Certificate.fromCertificateArn(
                this,
                'Certificate',
                props.customDomain.certificateArn,
              ),
              endpointType: EndpointType.REGIONAL,
              securityPolicy: SecurityPolicy.TLS_1_2,
            },
          }),
      ...(props.corsOrigins.length === 0
        ? {}
        : {
            // Preflight is answered by API Gateway; the proxy adds the headers to actual responses.
            defaultCorsPreflightOptions: {
              allowOrigins: [...props.corsOrigins],
              allowMethods: ['GET', 'POST', 'OPTIONS'],
              allowHeaders: [...PREFLIGHT_ALLOW_HEADERS],
              maxAge: Duration.days(1),
            },
          }),
      cloudWatchRole: true,
      deployOptions: {
        stageName: props.stageName,
        throttlingRateLimit: props.throttleRateLimit,
        throttlingBurstLimit: props.throttleBurstLimit,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
        // Execution logs at ERROR without data tracing: request headers and bodies are never logged.
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
      },
    });

    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG2',
      reason:
        "The proxy validates every body itself so errors come back in the calling API's own shape; API Gateway validators would answer in theirs.",
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'A WAF web ACL is optional; stage throttling, the key authorizer and per-key limits protect the API without it.',
    });
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole !== undefined) {
      Validations.of(cloudWatchRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          "API Gateway's account-level logging role needs the AWS-managed push policy: API Gateway names the log groups itself.",
      });
    }

    this.authorizer = new RequestAuthorizer(this, 'KeyAuthorizer', {
      handler: props.authorizer,
      identitySources: [IdentitySource.header('Authorization')],
      resultsCacheTtl: Duration.seconds(props.authorizerCacheTtlSeconds),
    });
    // A streamed integration may run 15 minutes; without an explicit timeout it would be cut at 29 s.
    const integration = new LambdaIntegration(props.proxy, {
      proxy: true,
      responseTransferMode: ResponseTransferMode.STREAM,
      timeout: Duration.millis(AWS_LIMITS.streamedIntegrationTimeoutMs),
    });
    for (const route of ROUTES) {
      const resource = this.api.root.resourceForPath(route.path);
      const method = hasAuthorizer(route)
        ? resource.addMethod(route.method, integration, {
            authorizer: this.authorizer,
            authorizationType: AuthorizationType.CUSTOM,
          })
        : resource.addMethod(route.method, integration, { authorizationType: AuthorizationType.NONE });
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-COG4',
        reason:
          'Clients authenticate with Tollgate API keys checked by the Lambda REQUEST authorizer; there are no Cognito users.',
      });
      if (proxyChecksKey(route)) {
        Validations.of(method).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: `${route.method} ${route.path} takes the key in any of its API's carriers, which one REQUEST authorizer cannot cache (API Gateway ANDs identity sources): the proxy authenticates the key before anything else and refuses the request with 401 without it.`,
        });
      } else if (route.auth !== 'key') {
        Validations.of(method).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: `${route.method} ${route.path} is public by design (a key, when sent, is checked by the proxy) and returns no secret.`,
        });
      }
    }

    for (const method of this.api.methods.filter((m) => m.httpMethod === 'OPTIONS')) {
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: 'CORS preflight carries no credentials by design.',
      });
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-COG4',
        reason: 'CORS preflight carries no credentials by design.',
      });
    }
    if (props.wafWebAclArn !== undefined) {
      new CfnWebACLAssociation(this, 'WebAcl', {
        resourceArn: this.api.deploymentStage.stageArn,
        webAclArn: props.wafWebAclArn,
      });
    }

    const responseHeaders = gatewayResponseHeaders(props.corsOrigins);
    for (const response of GATEWAY_RESPONSES) {
      this.api.addGatewayResponse(response.type, {
        type: ResponseType.of(response.type),
        ...(response.status === undefined ? {} : { statusCode: String(response.status) }),
        responseHeaders: {
          ...responseHeaders,
          ...Object.fromEntries(Object.entries(response.headers ?? {}).map(([name, v]) => [name, `'${v}'`])),
        },
        templates: { 'application/json': gatewayResponseTemplate(response) },
      });
    }
  }
}

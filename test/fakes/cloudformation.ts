/** A fake of CloudFormation's query protocol for DescribeStacks: form-encoded request, XML response, AWS errors. */
import { listen, readAll } from '../helpers/http.ts';

const xml = (s: string) => s.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c] ?? c);

export async function startFakeCloudFormation(stacks: Record<string, Record<string, string>>) {
  const { port, close } = await listen(async (req, res) => {
    const form = new URLSearchParams(await readAll(req));
    const fail = (code: string, message: string): void => {
      res.writeHead(400, { 'content-type': 'text/xml' });
      res.end(
        `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${xml(message)}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`,
      );
    };
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 '))
      return fail('MissingAuthenticationToken', 'Missing Authentication Token');
    if (form.get('Action') !== 'DescribeStacks') return fail('InvalidAction', 'Could not find operation');
    const name = form.get('StackName') ?? '';
    const outputs = stacks[name];
    if (outputs === undefined) return fail('ValidationError', `Stack with id ${name} does not exist`);
    const members = Object.entries(outputs)
      .map(
        ([k, v]) => `<member><OutputKey>${xml(k)}</OutputKey><OutputValue>${xml(v)}</OutputValue></member>`,
      )
      .join('');
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(
      `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>${xml(name)}</StackName><StackId>arn:aws:cloudformation:eu-west-1:111122223333:stack/${xml(name)}/1</StackId><StackStatus>CREATE_COMPLETE</StackStatus><CreationTime>2026-11-23T00:00:00Z</CreationTime><Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r-2</RequestId></ResponseMetadata></DescribeStacksResponse>`,
    );
  });
  return { endpoint: `http://127.0.0.1:${port}`, close };
}

/** The outputs every CLI command reads from a Tollgate stack whose tables are `tables`. */
export function cliOutputs(
  tables: Readonly<Record<'keys' | 'teams' | 'providers' | 'usage' | 'requestLog' | 'audit', string>>,
  aws: { keyArn: string; signingKeyArn: string; digestBucket: string },
): Record<string, string> {
  return {
    KeysTableName: tables.keys,
    TeamsTableName: tables.teams,
    ProvidersTableName: tables.providers,
    UsageTableName: tables.usage,
    RequestLogTableName: tables.requestLog,
    AuditTableName: tables.audit,
    KeyArn: aws.keyArn,
    AuditSigningKeyArn: aws.signingKeyArn,
    AuditDigestBucketName: aws.digestBucket,
    AuthorizerCacheTtlSeconds: '60',
  };
}

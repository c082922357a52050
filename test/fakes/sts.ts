/** A fake of STS's query protocol for GetCallerIdentity: form-encoded request, XML response, SigV4 required. */
import { listen, readAll } from '../helpers/http.ts';

export async function startFakeSts(arn: string) {
  const { port, close } = await listen(async (req, res) => {
    const form = new URLSearchParams(await readAll(req));
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
      res.writeHead(403, { 'content-type': 'text/xml' });
      res.end(
        '<ErrorResponse><Error><Type>Sender</Type><Code>MissingAuthenticationToken</Code><Message>Request is missing Authentication Token</Message></Error></ErrorResponse>',
      );
      return;
    }
    if (form.get('Action') !== 'GetCallerIdentity') {
      res.writeHead(400, { 'content-type': 'text/xml' });
      res.end(
        '<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>Could not find operation</Message></Error></ErrorResponse>',
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(
      `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>${arn}</Arn><UserId>AIDAEXAMPLE</UserId><Account>111122223333</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
    );
  });
  return { endpoint: `http://127.0.0.1:${port}`, close };
}

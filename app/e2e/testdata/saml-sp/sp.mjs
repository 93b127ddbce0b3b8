// A SAML service provider built with samlify, driven by app/e2e: it signs
// in through Gatehouse as its IdP and checks the answer as samlify does
// (schema, signature against the IdP metadata's certificate, issuer,
// audience, validity window).
//
//   node sp.mjs metadata <entityID> <acsURL>            SP metadata XML
//   node sp.mjs request  <entityID> <acsURL> <idp.xml>  {"id","url"}
//   node sp.mjs verify   <entityID> <acsURL> <idp.xml>  (stdin: {"SAMLResponse","RelayState"}) the extract as JSON
import { readFileSync } from 'node:fs';
import * as samlify from 'samlify';
import * as validator from '@authenio/samlify-node-xmllint';

samlify.setSchemaValidator(validator);

const [mode, entityID, acs, idpFile] = process.argv.slice(2);
const sp = samlify.ServiceProvider({
  entityID,
  assertionConsumerService: [{ Binding: samlify.Constants.namespace.binding.post, Location: acs }],
  nameIDFormat: [samlify.Constants.namespace.format.emailAddress],
  wantAssertionsSigned: true,
  clockDrifts: [-60000, 60000],
});

async function main() {
  if (mode === 'metadata') {
    process.stdout.write(sp.getMetadata());
    return;
  }
  const idp = samlify.IdentityProvider({ metadata: readFileSync(idpFile, 'utf8') });
  if (mode === 'request') {
    const { id, context } = sp.createLoginRequest(idp, 'redirect');
    process.stdout.write(JSON.stringify({ id, url: context }));
    return;
  }
  if (mode === 'verify') {
    const body = JSON.parse(readFileSync(0, 'utf8'));
    const { extract } = await sp.parseLoginResponse(idp, 'post', { body });
    process.stdout.write(JSON.stringify({
      nameID: extract.nameID,
      attributes: extract.attributes,
      issuer: extract.issuer,
      audience: extract.audience,
      inResponseTo: extract.response && extract.response.inResponseTo,
      destination: extract.response && extract.response.destination,
    }));
    return;
  }
  throw new Error('unknown mode ' + mode);
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack || err) + '\n');
  process.exit(1);
});

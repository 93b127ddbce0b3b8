// A strict client of OAuth 2.0 Token Exchange (RFC 8693): oauth4webapi's
// genericTokenEndpointRequest with client_secret_basic, its answer checked
// by processGenericTokenEndpointResponse, against Gatehouse (used by
// app/e2e).
//
//   node exchange.mjs ISSUER CLIENT_ID CLIENT_SECRET SUBJECT_TOKEN RESOURCE
//       prints the token response as JSON, or the error and exits 1
//
// Node does not resolve *.localhost: every request goes to 127.0.0.1 on the
// issuer's port, with the issuer's host in the Host header.
import * as oauth from 'oauth4webapi'
import http from 'node:http'

const [issuer, clientId, clientSecret, subjectToken, resource] = process.argv.slice(2)

function loopbackFetch(url, options = {}) {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const headers = Object.fromEntries(new Headers(options.headers))
    headers.host = u.host
    const req = http.request({ host: '127.0.0.1', port: u.port, path: u.pathname + u.search, method: options.method || 'GET', headers }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        const h = new Headers()
        for (const [k, v] of Object.entries(res.headers)) h.set(k, Array.isArray(v) ? v.join(', ') : v)
        resolve(new Response(Buffer.concat(chunks), { status: res.statusCode, headers: h }))
      })
    })
    req.on('error', reject)
    if (options.body) req.write(typeof options.body === 'string' ? options.body : options.body.toString())
    req.end()
  })
}

const opts = { [oauth.customFetch]: loopbackFetch, [oauth.allowInsecureRequests]: true }
try {
  const issuerURL = new URL(issuer)
  const as = await oauth.processDiscoveryResponse(issuerURL, await oauth.discoveryRequest(issuerURL, opts))
  const client = { client_id: clientId }
  const params = new URLSearchParams({
    subject_token: subjectToken,
    subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    resource,
  })
  const response = await oauth.genericTokenEndpointRequest(as, client, oauth.ClientSecretBasic(clientSecret),
    'urn:ietf:params:oauth:grant-type:token-exchange', params, opts)
  const result = await oauth.processGenericTokenEndpointResponse(as, client, response)
  console.log(JSON.stringify(result))
} catch (err) {
  console.error(`${err.name}: ${err.message}${err.code ? ' (' + err.code + ')' : ''}${err.error ? ' ' + err.error : ''}`)
  process.exit(1)
}

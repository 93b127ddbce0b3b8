// A client that registers itself: openid-client 6's
// dynamicClientRegistration (RFC 7591, with the server's metadata found by
// RFC 8414 discovery when ALGORITHM is oauth2, OpenID Discovery when oidc),
// against Gatehouse (used by app/e2e).
//
//   node register.mjs ISSUER ALGORITHM REDIRECT_URI [INITIAL_ACCESS_TOKEN]
//       registers a confidential web client; prints its client metadata
//       (with client_secret and registration_access_token) and an
//       authorization URL built from the resulting configuration, as JSON
//
// Node does not resolve *.localhost: every request goes to 127.0.0.1 on the
// issuer's port, with the issuer's host in the Host header.
import * as client from 'openid-client'
import http from 'node:http'

const [issuer, algorithm, redirectURI, initialAccessToken] = process.argv.slice(2)

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

try {
  const config = await client.dynamicClientRegistration(new URL(issuer), {
    client_name: 'openid-client registered',
    redirect_uris: [redirectURI],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }, undefined, {
    algorithm,
    initialAccessToken: initialAccessToken || undefined,
    execute: [client.allowInsecureRequests],
    [client.customFetch]: loopbackFetch,
  })
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectURI, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
  })
  console.log(JSON.stringify({ metadata: config.clientMetadata(), server: config.serverMetadata().registration_endpoint, url: url.href }))
} catch (err) {
  console.error(err?.code || '', err?.error || '', err?.message, err?.cause ? JSON.stringify(err.cause) : '')
  process.exit(1)
}

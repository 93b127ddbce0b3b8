// A strict relying party: openid-client 6 with private_key_jwt client
// authentication (PrivateKeyJwt) and pushed authorization requests (PAR),
// against Gatehouse (used by app/e2e).
//
//   node client.mjs ISSUER CLIENT_ID PRIVATE_JWK cc
//       client credentials grant; prints the token response as JSON
//   node client.mjs ISSUER CLIENT_ID PRIVATE_JWK par REDIRECT_URI
//       pushes an authorization request; prints {url, verifier, state}
//   node client.mjs ISSUER CLIENT_ID PRIVATE_JWK exchange CALLBACK_URL VERIFIER STATE
//       redeems the code of CALLBACK_URL, validating the ID token; prints
//       the token response and the ID token's claims as JSON
//
// Node does not resolve *.localhost: every request goes to 127.0.0.1 on the
// issuer's port, with the issuer's host in the Host header.
import * as client from 'openid-client'
import http from 'node:http'

const [issuer, clientId, jwkJSON, mode, ...rest] = process.argv.slice(2)

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
  const jwk = JSON.parse(jwkJSON)
  const { kid, ...material } = jwk
  const key = await crypto.subtle.importKey('jwk', material, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])
  const config = await client.discovery(new URL(issuer), clientId, undefined, client.PrivateKeyJwt({ key, kid }), {
    execute: [client.allowInsecureRequests],
    [client.customFetch]: loopbackFetch,
  })
  config[client.customFetch] = loopbackFetch
  switch (mode) {
    case 'cc': {
      const tokens = await client.clientCredentialsGrant(config)
      console.log(JSON.stringify(tokens))
      break
    }
    case 'par': {
      const [redirectURI] = rest
      const verifier = client.randomPKCECodeVerifier()
      const state = client.randomState()
      const url = await client.buildAuthorizationUrlWithPAR(config, {
        redirect_uri: redirectURI, scope: 'openid profile', state,
        code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
      })
      console.log(JSON.stringify({ url: url.href, verifier, state }))
      break
    }
    case 'exchange': {
      const [callback, verifier, state] = rest
      const tokens = await client.authorizationCodeGrant(config, new URL(callback), { pkceCodeVerifier: verifier, expectedState: state })
      console.log(JSON.stringify({ ...tokens, claims: tokens.claims() }))
      break
    }
    default:
      throw new Error(`unknown mode ${mode}`)
  }
} catch (err) {
  console.error(`${err.name}: ${err.message}${err.code ? ' (' + err.code + ')' : ''}${err.error ? ' ' + err.error + ': ' + err.error_description : ''}`)
  process.exit(1)
}

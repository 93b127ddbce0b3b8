// A strict client: openid-client 6 with client_secret_jwt client
// authentication (ClientSecretJwt: HS256 assertions keyed by the client
// secret, aud the issuer), against Gatehouse (used by app/e2e).
//
//   node secret_jwt.mjs ISSUER CLIENT_ID CLIENT_SECRET cc
//       client credentials grant; prints the token response as JSON
//   node secret_jwt.mjs ISSUER CLIENT_ID CLIENT_SECRET introspect TOKEN
//       introspects TOKEN (RFC 7662); prints the answer as JSON
//
// Node does not resolve *.localhost: every request goes to 127.0.0.1 on the
// issuer's port, with the issuer's host in the Host header.
import * as client from 'openid-client'
import http from 'node:http'

const [issuer, clientId, clientSecret, mode, ...rest] = process.argv.slice(2)

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
  const config = await client.discovery(new URL(issuer), clientId, undefined, client.ClientSecretJwt(clientSecret), {
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
    case 'introspect': {
      const [token] = rest
      console.log(JSON.stringify(await client.tokenIntrospection(config, token)))
      break
    }
    default:
      throw new Error(`unknown mode ${mode}`)
  }
} catch (err) {
  console.error(`${err.name}: ${err.message}${err.code ? ' (' + err.code + ')' : ''}${err.error ? ' ' + err.error + ': ' + err.error_description : ''}`)
  process.exit(1)
}

// Validates one access token the way a strict resource server does:
// oauth4webapi's validateJwtAccessToken (RFC 9068), with the issuer's
// metadata and JWKS fetched from Gatehouse. Prints the claims as JSON, or
// the error and exits 1.
//
//   node validate.mjs ISSUER AUDIENCE TOKEN
//
// Node does not resolve *.localhost: every request goes to 127.0.0.1 on the
// issuer's port, with the issuer's host in the Host header.
import * as oauth from 'oauth4webapi'
import http from 'node:http'

const [issuer, audience, token] = process.argv.slice(2)

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
    if (options.body) req.write(options.body)
    req.end()
  })
}

const opts = { [oauth.customFetch]: loopbackFetch, [oauth.allowInsecureRequests]: true }
try {
  const issuerURL = new URL(issuer)
  const as = await oauth.processDiscoveryResponse(issuerURL, await oauth.discoveryRequest(issuerURL, opts))
  const request = new Request('http://resource.test/orders', { headers: { authorization: `Bearer ${token}` } })
  const claims = await oauth.validateJwtAccessToken(as, request, audience, opts)
  console.log(JSON.stringify(claims))
} catch (err) {
  console.error(`${err.name}: ${err.message}${err.code ? ' (' + err.code + ')' : ''}`)
  process.exit(1)
}

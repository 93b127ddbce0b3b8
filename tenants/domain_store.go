package tenants

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/idna"
	"gorm.io/gorm"
)

// Bounds and names of custom domains.
const (
	// MaxDomains is how many custom domains one tenant may hold.
	MaxDomains = 20
	// DomainClaimTTL is how long an unverified claim of a host holds it:
	// after that, another tenant may claim the host (the first claim is
	// dropped), so a tenant cannot squat a domain it cannot prove.
	DomainClaimTTL = 7 * 24 * time.Hour
	// DomainChallengePrefix is the label of the TXT record that proves a
	// domain: _gatehouse-challenge.<domain>.
	DomainChallengePrefix = "_gatehouse-challenge."
)

// ErrTooManyDomains refuses a domain beyond MaxDomains; it is an
// ErrConflict.
var ErrTooManyDomains = fmt.Errorf("%w: a tenant may have at most %d custom domains", ErrConflict, MaxDomains)

// Domain is a host of a tenant's own (login.acme.com) that it may be served
// on besides <slug>.<apex>. Only a verified domain routes: VerifiedAt is
// set once the TXT record _gatehouse-challenge.<Host> held Challenge. A
// host is a domain of one tenant at most.
type Domain struct {
	ID       string `gorm:"primaryKey"`
	TenantID string
	// Host is lower-case ASCII (an A-label for an internationalized
	// name), without a port or a trailing dot (CheckDomain's form).
	Host string
	// Challenge is the random value the TXT record must hold. It is no
	// secret (it is published in DNS); being random per claim, it proves
	// the claimant controls the domain's DNS now.
	Challenge  string
	VerifiedAt *time.Time
	CreatedAt  time.Time
}

// TableName is the table of custom domains.
func (Domain) TableName() string { return "tenant_domains" }

// Verified reports whether the domain routes.
func (d *Domain) Verified() bool { return d.VerifiedAt != nil }

// ChallengeName is the DNS name of the TXT record that proves the domain.
func (d *Domain) ChallengeName() string { return DomainChallengePrefix + d.Host }

// CheckDomain returns host in the one form a custom domain is stored and
// matched in — lower-case ASCII, no trailing dot — or an error saying why
// it cannot be one: not a DNS name of at least two labels (no port, path,
// scheme, wildcard or IP address), not ASCII (give the A-label, xn--...,
// which is what a Host header carries), an A-label that does not decode
// to a valid name, or the apex or a host under it (those are tenant
// hosts, <slug>.<apex>).
func CheckDomain(host, apex string) (string, error) {
	h := strings.TrimSpace(host)
	for i := 0; i < len(h); i++ {
		if h[i] >= 0x80 {
			return "", Invalid("domain", "must be ASCII: give an internationalized name as its A-label (xn--...)")
		}
	}
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	if h == "" || len(h) > 253 || net.ParseIP(strings.Trim(h, "[]")) != nil {
		return "", Invalid("domain", "must be a DNS name such as login.example.com")
	}
	labels := strings.Split(h, ".")
	if len(labels) < 2 {
		return "", Invalid("domain", "must have at least two labels, such as login.example.com")
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", Invalid("domain", "must be a DNS name such as login.example.com")
		}
		for i := 0; i < len(l); i++ {
			b := l[i]
			if !('a' <= b && b <= 'z' || '0' <= b && b <= '9' || b == '-') {
				return "", Invalid("domain", "may hold only letters, digits, hyphens and dots")
			}
		}
	}
	if tld := labels[len(labels)-1]; strings.Trim(tld, "0123456789") == "" {
		return "", Invalid("domain", "must be a DNS name such as login.example.com")
	}
	// A-labels must decode to a valid name, and the name must be the one
	// IDNA 2008 registration would produce (no hidden case or mapping).
	if strings.Contains(h, "xn--") {
		if a, err := idna.Registration.ToASCII(h); err != nil || a != h {
			return "", Invalid("domain", "holds an A-label (xn--) that is not a valid internationalized name")
		}
	}
	apex = strings.ToLower(apex)
	if h == apex || strings.HasSuffix(h, "."+apex) {
		return "", Invalid("domain", "must not be %s or a host under it: those are tenant hosts", apex)
	}
	return h, nil
}

// DomainIssuer is the issuer of a tenant served at its custom domain host:
// base's scheme and port (TLS ends at the same proxy as for the apex), the
// domain's host, no path.
func DomainIssuer(base *url.URL, host string) string {
	if p := base.Port(); p != "" {
		return base.Scheme + "://" + net.JoinHostPort(host, p)
	}
	return base.Scheme + "://" + host
}

// ServedAt returns a copy of t as served at one of its verified custom
// domains: Host is the domain and Issuer that domain's issuer, so that
// discovery, tokens, cookies, passkeys and links of a request there follow
// the host it came to. Everything else, the id above all, is t's.
func (t *Tenant) ServedAt(host, issuer string) *Tenant {
	c := *t
	c.Host, c.Issuer = host, issuer
	return &c
}

// CreateDomain records a claim of d.Host for the tenant in ctx, unverified.
// A host claimed by any tenant is refused (ErrAlreadyExists), unless that
// claim is unverified and older than DomainClaimTTL: it lapses and is
// dropped. A tenant holding MaxDomains is refused (ErrTooManyDomains).
func (s *Store) CreateDomain(ctx context.Context, d *Domain) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	d.TenantID, d.CreatedAt, d.VerifiedAt = tid, now, nil
	d.Host = strings.ToLower(d.Host)
	if d.ID == "" {
		d.ID = newID()
	}
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		var lapsed []Domain
		if err := s.forUpdate(tx.Where("host = ? AND verified_at IS NULL AND created_at < ?", d.Host, now.Add(-DomainClaimTTL))).
			Find(&lapsed).Error; err != nil {
			return err
		}
		for _, x := range lapsed {
			if err := tx.Exec("DELETE FROM tenant_domains WHERE id = ?", x.ID).Error; err != nil {
				return err
			}
			if x.TenantID != tid {
				if err := bumpRevision(tx, x.TenantID, now); err != nil {
					return err
				}
			}
		}
		var n int64
		if err := tx.Table("tenant_domains").Where("tenant_id = ?", tid).Count(&n).Error; err != nil {
			return err
		}
		if n >= MaxDomains {
			return ErrTooManyDomains
		}
		if err := tx.Create(d).Error; err != nil {
			return err
		}
		return bumpRevision(tx, tid, now)
	}))
}

// ListDomains returns the tenant's custom domains, by host.
func (s *Store) ListDomains(ctx context.Context) ([]Domain, error) {
	q, _, err := s.scoped(ctx, "tenant_domains")
	if err != nil {
		return nil, err
	}
	var ds []Domain
	return ds, mapErr(q.Order("host").Limit(MaxDomains).Find(&ds).Error)
}

// DomainByHost returns the tenant's custom domain host.
func (s *Store) DomainByHost(ctx context.Context, host string) (*Domain, error) {
	q, _, err := s.scoped(ctx, "tenant_domains")
	if err != nil {
		return nil, err
	}
	var d Domain
	return &d, first(q.Where("host = ?", strings.ToLower(host)), &d)
}

// MarkDomainVerified records that the tenant's domain host proved its
// challenge (once: a verified domain keeps its first time) and bumps the
// revision, so that every node starts routing it.
func (s *Store) MarkDomainVerified(ctx context.Context, host string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec("UPDATE tenant_domains SET verified_at = COALESCE(verified_at, ?) WHERE tenant_id = ? AND host = ?", now, tid, strings.ToLower(host))
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return bumpRevision(tx, tid, now)
	}))
}

// DeleteDomain removes the tenant's domain host, which frees it for any
// tenant, and bumps the revision, so that no node routes it any more.
func (s *Store) DeleteDomain(ctx context.Context, host string) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec("DELETE FROM tenant_domains WHERE tenant_id = ? AND host = ?", tid, strings.ToLower(host))
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return bumpRevision(tx, tid, s.now())
	}))
}

// TenantByDomain returns the tenant whose verified custom domain host is
// (lower-case, no port), as stored: not yet ServedAt the domain. An
// unverified domain is ErrNotFound, as an unknown one.
func (s *Store) TenantByDomain(ctx context.Context, host string) (*Tenant, error) {
	var t Tenant
	return &t, first(s.conn(ctx).
		Where("id = (SELECT tenant_id FROM tenant_domains WHERE host = ? AND verified_at IS NOT NULL)", strings.ToLower(host)), &t)
}

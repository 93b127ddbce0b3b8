package admin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
	"github.com/gatehouse-id/gatehouse/tenants/secret"
)

// Audit actions of custom domains.
const (
	ActionDomainAdded    = "domain.added"
	ActionDomainVerified = "domain.verified"
	ActionDomainRemoved  = "domain.removed"
)

// Resolver looks up the TXT records of a DNS name: the check that proves a
// custom domain. *net.Resolver is one; tests give one that asks an
// in-test DNS server.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// NewResolver returns the resolver of domain checks: the system's, or,
// when addr (GATEHOUSE_DNS_RESOLVER, host:port) is set, one that asks only
// the DNS server at addr, over UDP and TCP as the answer needs.
func NewResolver(addr string) Resolver {
	if addr == "" {
		return net.DefaultResolver
	}
	var d net.Dialer
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}
}

// dnsTimeout bounds one domain check.
const dnsTimeout = 10 * time.Second

// Domain is the public view of a custom domain, with the DNS records that
// serve and prove it.
type Domain struct {
	Domain     string     `json:"domain" doc:"the host (lower case; an internationalized name as its A-label)"`
	Verified   bool       `json:"verified" doc:"whether the TXT record was found: only a verified domain serves the tenant"`
	VerifiedAt *time.Time `json:"verified_at,omitempty"`
	// Issuer is what relying parties that use this host configure.
	Issuer     string      `json:"issuer" doc:"the issuer of the tenant at this host, which relying parties that use it configure (tokens carry it; the tenant's own host keeps its issuer)"`
	Discovery  string      `json:"discovery_url" doc:"the OpenID Connect discovery document at this host"`
	DNSRecords []DNSRecord `json:"dns_records" doc:"the records to create at the domain's DNS provider: a CNAME that sends the host to Gatehouse, and the TXT record that proves the domain"`
	CreatedAt  time.Time   `json:"created_at"`
}

// DNSRecord is one record to create.
type DNSRecord struct {
	Type  string `json:"type" doc:"CNAME or TXT"`
	Name  string `json:"name"`
	Value string `json:"value"`
}

func (s *Service) domainView(d *tenants.Domain) *Domain {
	apex := s.baseURL.Hostname()
	iss := tenants.DomainIssuer(s.baseURL, d.Host)
	return &Domain{Domain: d.Host, Verified: d.Verified(), VerifiedAt: d.VerifiedAt, Issuer: iss,
		Discovery: iss + "/.well-known/openid-configuration", CreatedAt: d.CreatedAt,
		DNSRecords: []DNSRecord{{Type: "CNAME", Name: d.Host, Value: apex}, {Type: "TXT", Name: d.ChallengeName(), Value: d.Challenge}}}
}

// ListDomains returns the tenant's custom domains.
func (s *Service) ListDomains(ctx context.Context) ([]*Domain, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	ds, err := s.store.ListDomains(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Domain, len(ds))
	for i := range ds {
		out[i] = s.domainView(&ds[i])
	}
	return out, nil
}

// GetDomain returns one of the tenant's custom domains.
func (s *Service) GetDomain(ctx context.Context, host string) (*Domain, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	d, err := s.store.DomainByHost(ctx, host)
	if err != nil {
		return nil, err
	}
	return s.domainView(d), nil
}

// AddDomain claims host for the tenant, unverified, with a fresh random
// challenge: the domain serves nothing until VerifyDomain finds the TXT
// record. A host another tenant holds is refused as taken
// (tenants.ErrAlreadyExists), whoever asks.
func (s *Service) AddDomain(ctx context.Context, host string) (*Domain, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	h, err := tenants.CheckDomain(host, s.baseURL.Hostname())
	if err != nil {
		return nil, err
	}
	d := &tenants.Domain{Host: h, Challenge: "gatehouse-domain-verification=" + secret.Token(24)}
	if err := s.store.CreateDomain(ctx, d); err != nil {
		switch {
		case errors.Is(err, tenants.ErrAlreadyExists):
			return nil, fmt.Errorf("domain %s is taken: %w", h, err)
		case errors.Is(err, tenants.ErrTooManyDomains):
			return nil, tenants.Invalid("domain", "a tenant may have at most %d custom domains: remove one first", tenants.MaxDomains)
		}
		return nil, err
	}
	s.changed(t)
	v := s.domainView(d)
	return v, s.audit(ctx, t, ActionDomainAdded, "domain", h, nil, v)
}

// VerifyDomain looks up the TXT record _gatehouse-challenge.<host> and,
// when one of its strings is the domain's challenge, marks the domain
// verified: from then on every node serves the tenant there. A domain
// verified already stays so (the check is not repeated). Anything else
// is a ValidationError that says what DNS answered, never how a lookup
// failed in detail.
func (s *Service) VerifyDomain(ctx context.Context, host string) (*Domain, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	d, err := s.store.DomainByHost(ctx, host)
	if err != nil {
		return nil, err
	}
	if d.Verified() {
		return s.domainView(d), nil
	}
	lctx, cancel := context.WithTimeout(ctx, dnsTimeout)
	defer cancel()
	txts, err := s.resolver.LookupTXT(lctx, d.ChallengeName())
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return nil, tenants.Invalid("domain", "no TXT record %s was found yet: create it, then verify again (DNS changes may take a while to show)", d.ChallengeName())
	case err != nil:
		return nil, tenants.Invalid("domain", "the TXT record %s could not be looked up: try again later", d.ChallengeName())
	}
	found := false
	for _, txt := range txts {
		found = found || secret.Equal(txt, d.Challenge)
	}
	if !found {
		return nil, tenants.Invalid("domain", "the TXT record %s does not hold this domain's value %s", d.ChallengeName(), d.Challenge)
	}
	if err := s.store.MarkDomainVerified(ctx, d.Host); err != nil {
		return nil, err
	}
	s.changed(t)
	d, err = s.store.DomainByHost(ctx, d.Host)
	if err != nil {
		return nil, err
	}
	v := s.domainView(d)
	return v, s.audit(ctx, t, ActionDomainVerified, "domain", d.Host, nil, v)
}

// RemoveDomain stops serving the tenant at host and frees the domain.
func (s *Service) RemoveDomain(ctx context.Context, host string) error {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return err
	}
	d, err := s.store.DomainByHost(ctx, host)
	if err != nil {
		return err
	}
	if err := s.store.DeleteDomain(ctx, d.Host); err != nil {
		return err
	}
	s.changed(t)
	return s.audit(ctx, t, ActionDomainRemoved, "domain", d.Host, s.domainView(d), nil)
}

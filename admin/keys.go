package admin

import "context"

// RotateKey gives the tenant in ctx a new signing key; tokens signed with the
// old one keep verifying until they expire.
func (s *Service) RotateKey(ctx context.Context) (*Key, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	k, err := s.keys.Rotate(ctx, t)
	if err != nil {
		return nil, err
	}
	s.changed(t)
	v := keyView(k)
	return v, s.audit(ctx, t, ActionKeyRotated, "key", k.ID, nil, v)
}

// ListKeys returns every signing key of the tenant in ctx.
func (s *Service) ListKeys(ctx context.Context) ([]*Key, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	ks, err := s.store.ListSigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Key, len(ks))
	for i := range ks {
		out[i] = keyView(&ks[i])
	}
	return out, nil
}

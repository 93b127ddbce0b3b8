-- client_secret_jwt (RFC 7523 §2.2, OpenID Connect Core §9): a client that
-- signs its assertions with an HMAC keyed by its secret needs the secret
-- itself to verify them, which a hash cannot give. Such a client's secret
-- (and, during a rotation's grace period, its previous one) is kept sealed
-- under the master key (AES-256-GCM, bound to tenant and client) next to
-- the hash; every other client's sealed columns stay empty.
ALTER TABLE clients ADD COLUMN secret_sealed BYTEA NOT NULL DEFAULT ''::bytea;
ALTER TABLE clients ADD COLUMN previous_secret_sealed BYTEA NOT NULL DEFAULT ''::bytea;

-- An application's logo, shown on the consent page (RFC 7591 logo_uri):
-- an https URL, or empty for none.
ALTER TABLE clients ADD COLUMN logo_uri TEXT NOT NULL DEFAULT '';

-- A client's grant of an API may lapse: the console's Try it client holds
-- the tried application's grants for one try only. A lapsed grant is never
-- read, and is deleted with the other expired rows.
ALTER TABLE client_grants ADD COLUMN expires_at TIMESTAMPTZ;

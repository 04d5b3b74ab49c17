-- Staff passwords for the dashboard's login (POST /v1/sessions with a
-- principal and a password). Only the argon2id hash is kept, in libsodium's
-- crypto_pwhash_str format (salt and cost inside it); the principal must
-- still be staff in the directory to log in.
CREATE TABLE api_staff_password (
    principal     text        PRIMARY KEY,
    password_hash text        NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    set_by        text        NOT NULL,
    set_at        timestamptz NOT NULL DEFAULT now()
);

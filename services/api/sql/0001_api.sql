-- crm-api's own data: API tokens and staff sessions of the HTTP gateway.
-- Only a hash of each secret is kept (crm/token.h); the secret itself is
-- shown once, to whoever made it.
CREATE TABLE api_token (
    id          text        PRIMARY KEY,
    secret_hash bytea       NOT NULL,
    principal   text        NOT NULL,
    label       text        NOT NULL DEFAULT '',
    created_by  text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX api_token_list ON api_token (created_at, id);

CREATE TABLE api_session (
    id          text        PRIMARY KEY,
    secret_hash bytea       NOT NULL,
    principal   text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);

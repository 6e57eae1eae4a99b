-- Small app-wide settings (e.g. the admin passphrase's argon2 hash and the
-- failed-attempt counter that rate-limits guessing). Never secrets in clear.
CREATE TABLE app_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

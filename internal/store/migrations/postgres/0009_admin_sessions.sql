-- The admin pages' sessions and sign-in throttling live in the database, so
-- that every replica sees the same: a sign-out or a password change ends a
-- session everywhere, and failed sign-ins count the same on every replica.

-- A signed-in admin. The cookie holds a random token; only its SHA-256 is
-- kept, so a copy of this table signs no one in. key_tag names the admin
-- password the session was made under: a session made under another
-- password is not accepted.
CREATE TABLE admin_sessions (
	token_hash   TEXT PRIMARY KEY,
	id           TEXT NOT NULL UNIQUE, -- public: the sessions page and CSRF tokens name it
	key_tag      TEXT NOT NULL,
	created_at   BIGINT NOT NULL,
	last_seen_at BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL,
	client       TEXT NOT NULL,        -- the address it signed in from
	user_agent   TEXT NOT NULL
);
CREATE INDEX admin_sessions_expires_at ON admin_sessions (expires_at);

-- Sign-in attempts per client address, for the growing delay between them
-- (see the admin package's throttle). A successful sign-in deletes its
-- client's row.
CREATE TABLE admin_signin_attempts (
	client     TEXT PRIMARY KEY,
	attempts   INTEGER NOT NULL,
	last_at    BIGINT NOT NULL,
	next_at    BIGINT NOT NULL -- no attempt from client before this
);
CREATE INDEX admin_signin_attempts_last_at ON admin_signin_attempts (last_at);

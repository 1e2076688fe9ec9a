-- Prosody 0.12 configuration for flowkeeper-headless tests and local development.
--
-- Usable by a plain `prosody` process (no Docker):
--   prosodyctl --config docker/prosody/prosody.cfg.lua start
-- scripts/services.sh does exactly that, then registers the test accounts.
--
-- Everything the server writes (data, pid file, log) lives under FK_PROSODY_DIR
-- (default /tmp/fk-prosody); the Debian defaults in /etc/prosody are not used.
-- Environment overrides (read through Prosody's ENV_ prefix, see core/configmanager.lua):
--   FK_PROSODY_DIR        data/pid/log directory            default /tmp/fk-prosody
--   FK_PROSODY_INTERFACE  address c2s listens on            default 127.0.0.1 (loopback only)
--   FK_PROSODY_PORT       c2s port                          default 5222
--   FK_PROSODY_DOMAIN     the virtual host                  default localhost
--   FK_PROSODY_STORAGE    "sql" (SQLite, needs lua-dbi-sqlite3) or "internal"   default sql
--   FK_PROSODY_ALLOW_REGISTRATION  "true" enables in-band registration (tests)  default off
--   FK_PROSODY_LOG        "stdout": log to stdout (Docker)  default: FK_PROSODY_DIR/prosody.log
--
-- flowkeeper keeps a user's history in that user's own message archive (XEP-0313), see docs/xmpp.md.
-- The settings marked [history] are what keeps that archive complete and forever; the client checks
-- what it can over the wire and docs/xmpp.md lists what it cannot.

local base = ENV_FK_PROSODY_DIR or "/tmp/fk-prosody"
local domain = ENV_FK_PROSODY_DOMAIN or "localhost"

data_path = base .. "/data"
pidfile = base .. "/prosody.pid"
-- FK_PROSODY_LOG=stdout logs to stdout (Docker: `docker compose logs prosody`); default: the file.
if ENV_FK_PROSODY_LOG == "stdout" then
	log = { { levels = { min = ENV_FK_PROSODY_LOG_LEVEL or "info" }, to = "stdout" } }
else
	log = { { levels = { min = ENV_FK_PROSODY_LOG_LEVEL or "info" }, to = "file", filename = base .. "/prosody.log" } }
end
certificates = base .. "/certs"

-- When started as root, prosodyctl switches to this user; the data directory must belong to it.
prosody_user = "prosody"
prosody_group = "prosody"

-- Loopback only, no server-to-server, no HTTP.
local interface = ENV_FK_PROSODY_INTERFACE or "127.0.0.1"
interfaces = { interface }
local_interfaces = { interface }
c2s_ports = { tonumber(ENV_FK_PROSODY_PORT or "5222") }
c2s_direct_tls_ports = {}
s2s_ports = {}
component_ports = {}

modules_enabled = {
	"disco";        -- XEP-0030: the client checks features before relying on them
	"roster";
	"saslauth";
	"carbons";      -- XEP-0280: live copies to every resource of the account
	"mam";          -- XEP-0313: the history store [history]
	"pep";          -- XEP-0163: kept for comparison experiments (see docs/xmpp.md)
	"smacks";       -- XEP-0198: stanza acknowledgements
	"ping";
	"time";
	"version";
	"uptime";
	"register";     -- XEP-0077: password change; account creation only when allowed below
	"posix";        -- pid file and daemonizing
}
modules_disabled = { "s2s"; "offline"; "tls" }

-- Tests run over loopback without TLS and authenticate with PLAIN or SCRAM.
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
-- In-band registration lets the tests create a fresh account (a fresh history) per test. Off unless
-- FK_PROSODY_ALLOW_REGISTRATION=true (scripts/services.sh sets it for the loopback test server);
-- mod_register_limits only allows it from loopback by default anyway.
allow_registration = ENV_FK_PROSODY_ALLOW_REGISTRATION == "true"
authentication = "internal_hashed"

-- Bulk replay of a long history must not be throttled.
limits = {}
-- TCP_NODELAY: with Nagle on, small request/response exchanges wait for delayed ACKs (~40 ms each).
network_settings = { nagle = false }

-- [history] Storage. SQLite keeps paging by archive id indexed, so a page costs the same at
-- record 100 and at record 100 000 (mod_storage_internal re-reads the whole archive per page).
storage = ENV_FK_PROSODY_STORAGE or "sql"
sql = { driver = "SQLite3", database = base .. "/prosody.sqlite" }

-- [history] The archive is the history: never expire it, never truncate it, store by default.
archive_expires_after = "never"
default_archive_policy = true
storage_archive_item_limit = 1000000000
-- Larger RSM pages make replay faster; the client pages with whatever the server returns.
max_archive_query_results = 1000
mam_include_total = false

-- PEP (comparison only): allow very large nodes.
pep_max_items = 1000000000

VirtualHost(domain)

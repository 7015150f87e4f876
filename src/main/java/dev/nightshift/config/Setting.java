package dev.nightshift.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * Every configuration key, with its environment variable, default and meaning.
 * The same key is spelled {@code db_url} in a --config file, {@code NIGHTSHIFT_DB_URL} in the
 * environment and {@code --db-url} on the command line.
 */
public enum Setting {
    DB_URL(null, false, "JDBC URL of the PostgreSQL database; unset = embedded PostgreSQL under home"),
    DB_USER(null, false, "database user (default: from the URL, or postgres for the embedded database)"),
    DB_PASSWORD(null, true, "database password"),
    JOBS_DIR("./jobs", false, "directory of the job catalog (*.yaml)"),
    WORKERS("4", false, "runs executed at once by this node"),
    HTTP_PORT("9464", false, "port of /metrics, /livez, /readyz, /api and the dashboard (0 = any free port)"),
    HTTP_BIND("127.0.0.1", false, "address the HTTP port binds to"),
    ADMIN_TOKEN(null, true, "bearer token required by state-changing HTTP requests; unset = they are refused"),
    READ_TOKEN(null, true, "token required by the dashboard and the API's reads (Bearer, or the password of HTTP Basic in a"
            + " browser; the admin token reads too); unset = whoever reaches the port reads. /livez, /readyz, /metrics stay open"),
    TOKENS_FILE(null, false, "file of named tokens, one a line: NAME ROLE SHA256-HEX (role admin | operator | read; the hex SHA-256"
            + " of the token); re-read when it changes; every action is recorded with the token's name"),
    TRUSTED_PROXIES(null, false, "comma-separated IP addresses of reverse proxies whose X-Forwarded-User header names the actor"
            + " (from any other address the header is ignored); unset = the header is never trusted"),
    PROXY_ROLE("read", false, "role of a user named by a trusted proxy's X-Forwarded-User: admin | operator | read"),
    NODE_NAME(null, false, "name of this node in runs and logs (default: host-pid)"),
    HOME("./.nightshift", false, "directory of the embedded PostgreSQL's binaries and data"),
    LOG_FORMAT("text", false, "text | json"),
    POLL_INTERVAL("1s", false, "how often an idle node polls for due runs while its LISTEN connection is down"),
    SHUTDOWN_GRACE("30s", false, "how long SIGTERM waits for running runs before aborting them"),
    RESCUE_INTERVAL("2s", false, "how often the LISTEN connection checks, in one statement, for due runs and for runs whose owner is gone"),
    RETENTION("7d", false, "finished runs older than this are pruned"),
    SCHEDULER_THREADS("8", false, "Quartz threads of this node; each fire only inserts the runs of one schedule"),
    MISFIRE_THRESHOLD("60s", false, "how late a schedule's fire may be and still count as on time; later is a misfire, handled by the misfire policy"),
    STALL_TIMEOUT("60s", false, "how long a worker session may sit silent while it holds a run (a frozen node, a cut network) before"
            + " PostgreSQL ends it and another node takes the run over; also bounds the sessions' TCP keepalives."
            + " Must exceed the longest pause of a node inside a run (GC, reading a file)"),
    NOTIFY(null, false, "webhooks told of dead runs, late slots and recoveries of jobs without notify: of their own;"
            + " URLs separated by commas, each optionally followed by |slack for Slack's message format"),
    WEBHOOK_SECRET(null, true, "key of the HMAC-SHA256 signature of each notification (header X-Nightshift-Signature);"
            + " unset = notifications are sent unsigned"),
    PUBLIC_URL(null, false, "the dashboard's address as people reach it (e.g. https://nightshift.example.com), for the links"
            + " in notifications; unset = http://HTTP_BIND:HTTP_PORT");

    private final String defaultValue;
    private final boolean secret;
    private final String description;

    Setting(String defaultValue, boolean secret, String description) {
        this.defaultValue = defaultValue;
        this.secret = secret;
        this.description = description;
    }

    /** The key as written in a --config file: {@code db_url}. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    public String envName() {
        return "NIGHTSHIFT_" + name();
    }

    public String flag() {
        return "--" + key().replace('_', '-');
    }

    public String defaultValue() {
        return defaultValue;
    }

    public boolean secret() {
        return secret;
    }

    public String description() {
        return description;
    }

    public static Optional<Setting> byKey(String key) {
        return Arrays.stream(values()).filter(s -> s.key().equals(key)).findFirst();
    }
}

package dev.nightshift.cli;

import dev.nightshift.config.Setting;
import dev.nightshift.config.Settings;
import dev.nightshift.config.SettingsLoader;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** The settings flags every command accepts; each overrides its environment variable and the --config file. */
public final class CommonOptions {
    @Option(names = "--config", paramLabel = "FILE", description = "YAML file of settings (keys as in the README's configuration table)")
    Path config;

    @Option(names = "--db-url", paramLabel = "JDBC_URL", description = "PostgreSQL JDBC URL; unset = embedded PostgreSQL under --home (env NIGHTSHIFT_DB_URL)")
    String dbUrl;

    @Option(names = "--db-user", paramLabel = "USER", description = "database user (env NIGHTSHIFT_DB_USER); the password comes only from the environment or --config")
    String dbUser;

    @Option(names = "--jobs-dir", paramLabel = "DIR", description = "job catalog directory (env NIGHTSHIFT_JOBS_DIR, default ./jobs)")
    String jobsDir;

    @Option(names = "--workers", paramLabel = "N", description = "runs executed at once by this node (env NIGHTSHIFT_WORKERS, default 4)")
    String workers;

    @Option(names = "--http-port", paramLabel = "PORT", description = "HTTP port (env NIGHTSHIFT_HTTP_PORT, default 9464)")
    String httpPort;

    @Option(names = "--http-bind", paramLabel = "ADDR", description = "HTTP bind address (env NIGHTSHIFT_HTTP_BIND, default 127.0.0.1)")
    String httpBind;

    @Option(names = "--tokens-file", paramLabel = "FILE", description = "named tokens, NAME ROLE SHA256-HEX a line (env NIGHTSHIFT_TOKENS_FILE)")
    String tokensFile;

    @Option(names = "--trusted-proxies", paramLabel = "IPS",
            description = "proxy addresses whose X-Forwarded-User names the actor (env NIGHTSHIFT_TRUSTED_PROXIES)")
    String trustedProxies;

    @Option(names = "--proxy-role", paramLabel = "ROLE", description = "role of a proxy's users: admin, operator or read (default read)")
    String proxyRole;

    @Option(names = "--node-name", paramLabel = "NAME", description = "name of this node (env NIGHTSHIFT_NODE_NAME, default host-pid)")
    String nodeName;

    @Option(names = "--home", paramLabel = "DIR", description = "home of the embedded PostgreSQL (env NIGHTSHIFT_HOME, default ./.nightshift)")
    String home;

    @Option(names = "--log-format", paramLabel = "FORMAT", description = "text or json (env NIGHTSHIFT_LOG_FORMAT)")
    String logFormat;

    @Option(names = "--poll-interval", paramLabel = "DURATION", description = "polling for due runs while the LISTEN connection is down (default 1s)")
    String pollInterval;

    @Option(names = "--shutdown-grace", paramLabel = "DURATION", description = "how long SIGTERM lets running runs finish (default 30s)")
    String shutdownGrace;

    @Option(names = "--rescue-interval", paramLabel = "DURATION", description = "how often the LISTEN connection checks for due and orphaned runs (default 2s)")
    String rescueInterval;

    @Option(names = "--retention", paramLabel = "DURATION", description = "finished runs older than this are pruned (default 7d)")
    String retention;

    @Option(names = "--scheduler-threads", paramLabel = "N", description = "Quartz threads of this node (default 8)")
    String schedulerThreads;

    @Option(names = "--misfire-threshold", paramLabel = "DURATION",
            description = "how late a fire may be and still count as on time (default 60s)")
    String misfireThreshold;

    @Option(names = "--stall-timeout", paramLabel = "DURATION",
            description = "how long a silent worker session (frozen or cut-off node) holds its run before PostgreSQL ends it (default 60s)")
    String stallTimeout;

    @Option(names = "--notify", paramLabel = "URLS",
            description = "default webhooks for jobs without notify: (comma-separated, URL|slack for Slack's format)")
    String notify;

    @Option(names = "--public-url", paramLabel = "URL", description = "the dashboard's address, for links in notifications")
    String publicUrl;

    /** The catalog directory given with {@code --jobs-dir}, or null when the flag is absent (whatever the environment says). */
    public String jobsDirFlag() {
        return jobsDir;
    }

    public Settings settings(Map<String, String> env) {
        Map<Setting, String> flags = new EnumMap<>(Setting.class);
        flags.put(Setting.DB_URL, dbUrl);
        flags.put(Setting.DB_USER, dbUser);
        flags.put(Setting.JOBS_DIR, jobsDir);
        flags.put(Setting.WORKERS, workers);
        flags.put(Setting.HTTP_PORT, httpPort);
        flags.put(Setting.HTTP_BIND, httpBind);
        flags.put(Setting.TOKENS_FILE, tokensFile);
        flags.put(Setting.TRUSTED_PROXIES, trustedProxies);
        flags.put(Setting.PROXY_ROLE, proxyRole);
        flags.put(Setting.NODE_NAME, nodeName);
        flags.put(Setting.HOME, home);
        flags.put(Setting.LOG_FORMAT, logFormat);
        flags.put(Setting.POLL_INTERVAL, pollInterval);
        flags.put(Setting.SHUTDOWN_GRACE, shutdownGrace);
        flags.put(Setting.RESCUE_INTERVAL, rescueInterval);
        flags.put(Setting.RETENTION, retention);
        flags.put(Setting.NOTIFY, notify);
        flags.put(Setting.PUBLIC_URL, publicUrl);
        flags.put(Setting.SCHEDULER_THREADS, schedulerThreads);
        flags.put(Setting.MISFIRE_THRESHOLD, misfireThreshold);
        flags.put(Setting.STALL_TIMEOUT, stallTimeout);
        return SettingsLoader.load(env, config, flags);
    }
}

package dev.nightshift.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The validated, immutable configuration of one nightshift process. Build it with
 * {@link SettingsLoader}; an invalid combination cannot produce an instance. Thread-safe.
 *
 * @param dbUrl JDBC URL, or {@code null} for the embedded PostgreSQL
 */
public record Settings(
        String dbUrl,
        String dbUser,
        String dbPassword,
        Path jobsDir,
        int workers,
        int httpPort,
        String httpBind,
        String adminToken,
        String readToken,
        Path tokensFile,
        List<String> trustedProxies,
        String proxyRole,
        String nodeName,
        Path home,
        LogFormat logFormat,
        Duration pollInterval,
        Duration shutdownGrace,
        Duration rescueInterval,
        Duration retention,
        int schedulerThreads,
        Duration misfireThreshold,
        Duration stallTimeout,
        Notify notifications) {

    /**
     * Notification settings.
     *
     * @param targets   the default webhooks, for jobs without notify: of their own
     * @param secret    HMAC key of the signature header, or null
     * @param publicUrl the dashboard's address for links, or null for http://bind:port
     */
    public record Notify(java.util.List<NotifyTarget> targets, String secret, String publicUrl) {
        public static final Notify NONE = new Notify(java.util.List.of(), null, null);

        public Notify {
            targets = targets == null ? java.util.List.of() : java.util.List.copyOf(targets);
        }
    }

    public enum LogFormat { TEXT, JSON }

    /** An IPv4 or IPv6 address written out: never a name to resolve, which DNS could change under us. */
    static final Pattern IP_LITERAL = Pattern.compile("(\\d{1,3}(\\.\\d{1,3}){3})|([0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)");
    static final Pattern NODE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@-]{0,62}");

    public Settings {
        Objects.requireNonNull(jobsDir, "jobsDir");
        Objects.requireNonNull(home, "home");
        Objects.requireNonNull(logFormat, "logFormat");
        notifications = notifications == null ? Notify.NONE : notifications;
        List<String> problems = new ArrayList<>();
        if (dbUrl != null && !dbUrl.startsWith("jdbc:postgresql:")) {
            problems.add("db_url must be a PostgreSQL JDBC URL (jdbc:postgresql://host:port/db), got '" + dbUrl + "'");
        }
        if (workers < 1 || workers > 256) {
            problems.add("workers must be between 1 and 256, got " + workers);
        }
        if (httpPort < 0 || httpPort > 65535) {
            problems.add("http_port must be between 0 and 65535, got " + httpPort);
        }
        if (httpBind == null || httpBind.isBlank()) {
            problems.add("http_bind must not be empty");
        }
        if (nodeName == null || !NODE_NAME.matcher(nodeName).matches()) {
            problems.add("node_name must be 1-63 characters of letters, digits and . _ : @ -, got '" + nodeName + "'");
        }
        if (adminToken != null && adminToken.length() < 16) {
            problems.add("admin_token must be at least 16 characters long");
        }
        if (readToken != null && readToken.length() < 16) {
            problems.add("read_token must be at least 16 characters long");
        }
        if (readToken != null && readToken.equals(adminToken)) {
            problems.add("read_token must differ from admin_token (whoever holds the admin token reads anyway)");
        }
        trustedProxies = trustedProxies == null ? List.of() : List.copyOf(trustedProxies);
        for (String proxy : trustedProxies) {
            if (!IP_LITERAL.matcher(proxy).matches()) {
                problems.add("trusted_proxies must be IP addresses (no host names, no ranges), got '" + proxy + "'");
            }
        }
        if (!List.of("admin", "operator", "read").contains(proxyRole)) {
            problems.add("proxy_role must be admin, operator or read, got '" + proxyRole + "'");
        }
        requirePositive(problems, "poll_interval", pollInterval);
        requirePositive(problems, "shutdown_grace", shutdownGrace);
        requirePositive(problems, "rescue_interval", rescueInterval);
        requirePositive(problems, "retention", retention);
        if (schedulerThreads < 1 || schedulerThreads > 100) {
            problems.add("scheduler_threads must be between 1 and 100, got " + schedulerThreads);
        }
        if (misfireThreshold == null || misfireThreshold.compareTo(Duration.ofSeconds(1)) < 0) {
            problems.add("misfire_threshold must be at least 1s, got " + misfireThreshold);
        }
        if (stallTimeout == null || stallTimeout.compareTo(Duration.ofSeconds(2)) < 0
                || stallTimeout.compareTo(Duration.ofDays(1)) > 0) {
            problems.add("stall_timeout must be between 2s and 1d, got " + (stallTimeout == null ? null : Durations.format(stallTimeout)));
        }
        if (notifications.publicUrl() != null && NotifyTarget.problem(notifications.publicUrl()) != null) {
            problems.add("public_url: " + NotifyTarget.problem(notifications.publicUrl()));
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
    }

    /** The dashboard's address for links: public_url, or this node's HTTP address. */
    public String dashboardUrl() {
        String base = notifications.publicUrl() != null ? notifications.publicUrl() : "http://" + httpBind + ":" + httpPort;
        return base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    }

    private static void requirePositive(List<String> problems, String key, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            problems.add(key + " must be a positive duration, got " + d);
        }
    }

    public boolean embedded() {
        return dbUrl == null;
    }

    /** Every setting as it will be used, secrets masked: the one line logged at start. */
    public Map<String, String> describe() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("db_url", embedded() ? "(embedded PostgreSQL under " + home + ")" : maskUrl(dbUrl));
        m.put("db_user", dbUser == null ? "(default)" : dbUser);
        m.put("db_password", mask(dbPassword));
        m.put("jobs_dir", jobsDir.toString());
        m.put("workers", Integer.toString(workers));
        m.put("http", httpBind + ":" + httpPort);
        m.put("admin_token", mask(adminToken));
        m.put("read_token", mask(readToken));
        m.put("tokens_file", tokensFile == null ? "(unset)" : tokensFile.toString());
        m.put("trusted_proxies", trustedProxies.isEmpty() ? "(none)" : String.join(",", trustedProxies));
        m.put("proxy_role", proxyRole);
        m.put("node_name", nodeName);
        m.put("home", home.toString());
        m.put("log_format", logFormat.name().toLowerCase(java.util.Locale.ROOT));
        m.put("poll_interval", Durations.format(pollInterval));
        m.put("shutdown_grace", Durations.format(shutdownGrace));
        m.put("rescue_interval", Durations.format(rescueInterval));
        m.put("retention", Durations.format(retention));
        m.put("scheduler_threads", Integer.toString(schedulerThreads));
        m.put("misfire_threshold", Durations.format(misfireThreshold));
        m.put("stall_timeout", Durations.format(stallTimeout));
        m.put("notify", notifications.targets().isEmpty() ? "(none)" : String.join(", ", notifications.targets().stream().map(NotifyTarget::shown).toList()));
        m.put("webhook_secret", mask(notifications.secret()));
        m.put("public_url", notifications.publicUrl() == null ? "(http://" + httpBind + ":" + httpPort + ")" : notifications.publicUrl());
        return m;
    }

    /** The secret values among the settings (the unset ones as null), for logs that must mask them wherever they appear. */
    public java.util.List<String> secrets() {
        return java.util.Arrays.asList(dbPassword, adminToken, readToken, notifications.secret());
    }

    private static String mask(String secret) {
        return secret == null ? "(unset)" : "****";
    }

    /** Hides a password given inside the URL itself (?password=... or user:pass@). */
    static String maskUrl(String url) {
        return url.replaceAll("(?i)(password=)[^&]*", "$1****").replaceAll("//([^/:@]+):[^@/]*@", "//$1:****@");
    }

    /** A copy with another node name: tests run several nodes in one JVM. */
    public Settings withNodeName(String name) {
        return new Settings(dbUrl, dbUser, dbPassword, jobsDir, workers, httpPort, httpBind, adminToken, readToken, tokensFile,
                trustedProxies, proxyRole, name, home,
                logFormat, pollInterval, shutdownGrace, rescueInterval, retention, schedulerThreads, misfireThreshold, stallTimeout,
                notifications);
    }
}

package dev.nightshift.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Builds {@link Settings} from the environment, then an optional --config YAML file, then flags,
 * each overriding the one before. Every bad value is reported with where it came from.
 */
public final class SettingsLoader {
    private final Map<Setting, Value> values = new EnumMap<>(Setting.class);
    private final List<String> problems = new ArrayList<>();

    private record Value(String text, String source) {
    }

    private SettingsLoader() {
    }

    /**
     * @param env        the process environment (only NIGHTSHIFT_* keys are read)
     * @param configFile a YAML file of {@code key: value} lines, or null
     * @param flags      values given on the command line
     */
    public static Settings load(Map<String, String> env, Path configFile, Map<Setting, String> flags) {
        SettingsLoader l = new SettingsLoader();
        l.fromEnvironment(env);
        if (configFile != null) {
            l.fromFile(configFile);
        }
        flags.forEach((k, v) -> {
            if (v != null) {
                l.values.put(k, new Value(v, k.flag()));
            }
        });
        return l.build();
    }

    private void fromEnvironment(Map<String, String> env) {
        for (Setting s : Setting.values()) {
            String v = env.get(s.envName());
            if (v != null && !v.isEmpty()) {
                values.put(s, new Value(v, "environment variable " + s.envName()));
            }
        }
        env.keySet().stream()
                .filter(k -> k.startsWith("NIGHTSHIFT_"))
                .filter(k -> Setting.byKey(k.substring("NIGHTSHIFT_".length()).toLowerCase(Locale.ROOT)).isEmpty())
                .filter(k -> !k.startsWith("NIGHTSHIFT_TEST_") && !k.endsWith("_OPTS"))
                .forEach(k -> problems.add("unknown environment variable " + k + " (known: NIGHTSHIFT_"
                        + String.join(", NIGHTSHIFT_", java.util.Arrays.stream(Setting.values()).map(Enum::name).toList()) + ")"));
    }

    private void fromFile(Path file) {
        Yaml.MapNode map = YamlFields.readMapping(file, "config file", "a config file is a mapping of key: value", true, problems);
        if (map == null) {
            return;
        }
        for (Yaml.Entry e : map.entries().values()) {
            var setting = Setting.byKey(e.key().replace('-', '_'));
            String where = file + ":" + e.line();
            if (setting.isEmpty()) {
                problems.add(where + ": unknown key '" + e.key() + "'");
            } else if (!(e.value() instanceof Yaml.Scalar sc)) {
                problems.add(where + ": " + e.key() + " must be a single value, not " + e.value().kind());
            } else if (!sc.isNull()) {
                values.put(setting.get(), new Value(sc.text(), where));
            }
        }
    }

    private String text(Setting s) {
        Value v = values.get(s);
        return v == null ? s.defaultValue() : v.text();
    }

    private String where(Setting s) {
        Value v = values.get(s);
        return v == null ? "default of " + s.key() : v.source();
    }

    private int integer(Setting s) {
        String t = text(s);
        try {
            return Integer.parseInt(t.trim());
        } catch (NumberFormatException e) {
            problems.add(where(s) + ": " + s.key() + " must be a whole number, got '" + t + "'");
            return Integer.parseInt(s.defaultValue());
        }
    }

    /** A comma-separated list, blanks dropped. */
    private List<String> list(Setting s) {
        String t = text(s);
        return t == null ? List.of() : java.util.Arrays.stream(t.split(",")).map(String::trim).filter(v -> !v.isEmpty()).toList();
    }

    private Duration duration(Setting s) {
        try {
            return Durations.parse(text(s));
        } catch (IllegalArgumentException e) {
            problems.add(where(s) + ": " + s.key() + ": " + e.getMessage());
            return Durations.parse(s.defaultValue());
        }
    }

    private Settings.LogFormat logFormat() {
        String t = text(Setting.LOG_FORMAT).trim().toLowerCase(Locale.ROOT);
        return switch (t) {
            case "text" -> Settings.LogFormat.TEXT;
            case "json" -> Settings.LogFormat.JSON;
            default -> {
                problems.add(where(Setting.LOG_FORMAT) + ": log_format must be text or json, got '" + t + "'");
                yield Settings.LogFormat.TEXT;
            }
        };
    }

    private Settings build() {
        String nodeName = text(Setting.NODE_NAME);
        Settings.LogFormat format = logFormat();
        int workers = integer(Setting.WORKERS);
        int port = integer(Setting.HTTP_PORT);
        Duration poll = duration(Setting.POLL_INTERVAL);
        Duration grace = duration(Setting.SHUTDOWN_GRACE);
        Duration rescue = duration(Setting.RESCUE_INTERVAL);
        Duration retention = duration(Setting.RETENTION);
        int schedulerThreads = integer(Setting.SCHEDULER_THREADS);
        Duration misfireThreshold = duration(Setting.MISFIRE_THRESHOLD);
        Duration stallTimeout = duration(Setting.STALL_TIMEOUT);
        List<String> notifyProblems = new java.util.ArrayList<>();
        List<NotifyTarget> notifyTargets = NotifyTarget.parseList(text(Setting.NOTIFY), notifyProblems);
        notifyProblems.forEach(p -> problems.add(where(Setting.NOTIFY) + ": " + p));
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        try {
            return new Settings(
                    text(Setting.DB_URL),
                    text(Setting.DB_USER),
                    text(Setting.DB_PASSWORD),
                    Path.of(text(Setting.JOBS_DIR)),
                    workers,
                    port,
                    text(Setting.HTTP_BIND),
                    text(Setting.ADMIN_TOKEN),
                    text(Setting.READ_TOKEN),
                    text(Setting.TOKENS_FILE) == null ? null : Path.of(text(Setting.TOKENS_FILE)),
                    list(Setting.TRUSTED_PROXIES),
                    text(Setting.PROXY_ROLE).trim().toLowerCase(Locale.ROOT),
                    nodeName == null ? defaultNodeName() : nodeName,
                    Path.of(text(Setting.HOME)),
                    format,
                    poll,
                    grace,
                    rescue,
                    retention,
                    schedulerThreads,
                    misfireThreshold,
                    stallTimeout,
                    new Settings.Notify(notifyTargets, text(Setting.WEBHOOK_SECRET), text(Setting.PUBLIC_URL)));
        } catch (java.nio.file.InvalidPathException e) {
            throw new ConfigException("invalid path: " + e.getMessage());
        } catch (ConfigException e) {
            throw new ConfigException(e.problems().stream().map(this::located).toList());
        }
    }

    /** A range problem found by Settings ("workers must be …"), prefixed with where the value came from. */
    private String located(String problem) {
        for (Setting s : Setting.values()) {
            if (problem.startsWith(s.key() + " ") && values.containsKey(s)) {
                return where(s) + ": " + problem;
            }
        }
        return problem;
    }

    /** host-pid, which is unique on a host and tells an operator where to look. */
    static String defaultNodeName() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            // no resolvable host name (containers, bare hosts): the pid still makes the name unique on this host
            host = "localhost";
        }
        host = host.replaceAll("[^A-Za-z0-9.-]", "-");
        if (host.length() > 40) {
            host = host.substring(0, 40);
        }
        return host + "-" + ProcessHandle.current().pid();
    }
}

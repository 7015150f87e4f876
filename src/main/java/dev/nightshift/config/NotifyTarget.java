package dev.nightshift.config;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A webhook that is told when a job's run ends dead, a slot turns late, or the job recovers
 * ({@code notify:} in a job, {@code notify} in the settings for jobs without one). Immutable.
 *
 * @param url    http or https, with a host
 * @param format {@code json} (nightshift's own body) or {@code slack} (an incoming-webhook message)
 */
public record NotifyTarget(URI url, Format format) {
    /** The body a target receives. */
    public enum Format { JSON, SLACK }

    public NotifyTarget {
        Objects.requireNonNull(format, "format");
        String why = problem(url == null ? null : url.toString());
        if (why != null) {
            throw new IllegalArgumentException(why);
        }
    }

    /** Why {@code url} cannot be a target, or null when it can. */
    public static String problem(String url) {
        if (url == null || url.isBlank()) {
            return "a webhook URL is required";
        }
        URI u;
        try {
            u = new URI(url.strip());
        } catch (java.net.URISyntaxException e) {
            return "'" + url + "' is not a URL: " + e.getMessage();
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return "'" + redacted(url) + "' is not an http(s) URL";
        }
        if (u.getHost() == null || u.getHost().isBlank()) {
            return "'" + redacted(url) + "' has no host";
        }
        return null;
    }

    public static Format format(String s) {
        return switch (s == null ? "json" : s) {
            case "json" -> Format.JSON;
            case "slack" -> Format.SLACK;
            default -> null;
        };
    }

    /**
     * The URL as logs and pages show it: scheme, host and port only. Webhook URLs carry their secret
     * in the path (Slack's do), so the rest is never shown.
     */
    public String shown() {
        return redacted(url.toString());
    }

    static String redacted(String url) {
        try {
            URI u = new URI(url.strip());
            if (u.getHost() != null) {
                return u.getScheme() + "://" + u.getHost() + (u.getPort() < 0 ? "" : ":" + u.getPort()) + "/…";
            }
        } catch (java.net.URISyntaxException e) {
            // not a URL at all: shown cut, below
            return url.length() <= 40 ? url : url.substring(0, 40) + "…";
        }
        return url;
    }

    /** The setting's form: URLs separated by commas, each optionally followed by {@code |slack}. Problems go to {@code problems}. */
    public static List<NotifyTarget> parseList(String text, List<String> problems) {
        List<NotifyTarget> out = new ArrayList<>();
        if (text == null || text.isBlank()) {
            return out;
        }
        for (String item : text.split(",")) {
            String[] parts = item.strip().split("\\|", 2);
            Format f = format(parts.length > 1 ? parts[1].strip() : "json");
            String why = problem(parts[0]);
            if (why != null || f == null) {
                problems.add("notify: " + (why != null ? why : "format must be json or slack, got '" + parts[1].strip() + "'"));
            } else {
                out.add(new NotifyTarget(URI.create(parts[0].strip()), f));
            }
        }
        return List.copyOf(out);
    }
}

package dev.nightshift.runlog;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Masks secrets in a log line before it is stored: the values of {@code password=}, {@code token=},
 * {@code secret=}-like pairs (JDBC and libpq connection strings, printed parameters), a URL's
 * {@code user:password@}, the path and query of http(s) URLs (webhook URLs carry their token there),
 * and the node's own secrets (database password, tokens, webhook secret) wherever they appear.
 * Immutable, thread-safe.
 */
public final class Scrubber {
    static final String MASK = "****";
    /** key=value or key: value, where the key names a secret; the value runs to a separator. */
    private static final Pattern PAIR = Pattern.compile(
            "(?i)\\b([a-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|credentials?)[a-z0-9_.-]*)(\\s*[=:]\\s*)"
                    + "(\"[^\"]*\"|'[^']*'|[^\\s&;,}'\"]+)");
    private static final Pattern USER_INFO = Pattern.compile("(?i)\\b([a-z][a-z0-9+.-]*://[^/\\s:@]+):[^@/\\s]*@");
    /** An http(s) URL's path and query; the scheme, host and port stay (NotifyTarget.shown does the same). */
    private static final Pattern HTTP_URL = Pattern.compile("(?i)\\b(https?://[^/\\s?#'\"<>]+)([/?#][^\\s'\"<>]*)");

    private final List<String> literals;

    /** @param literals secrets to mask wherever they appear (null and short values are ignored) */
    public Scrubber(List<String> literals) {
        List<String> keep = new ArrayList<>();
        for (String s : literals) {
            // a 1-3 character "secret" would mask half of every line and protects nothing
            if (s != null && s.length() >= 4) {
                keep.add(s);
            }
        }
        keep.sort(Comparator.comparingInt(String::length).reversed());
        this.literals = List.copyOf(keep);
    }

    public String scrub(String text) {
        String out = text;
        for (String s : literals) {
            out = out.replace(s, MASK);
        }
        out = USER_INFO.matcher(out).replaceAll("$1:" + MASK + "@");
        out = HTTP_URL.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1)) + "/…");
        return PAIR.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + m.group(2)) + MASK);
    }
}

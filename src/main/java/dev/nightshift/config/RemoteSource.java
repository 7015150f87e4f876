package dev.nightshift.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A batch-import's remote source: an {@code https://} URL (plain {@code http://} only where
 * {@code allowed_sources} names it), fetched only when changed, and the rules of every fetch: which
 * URLs a run may reach ({@code allowed_sources}, for the source, a run's {@code source} parameter
 * and every redirect), the credentials' environment variable, timeouts, a size cap and how many
 * redirects are followed. Immutable.
 *
 * @param url            the source as written (it may hold period placeholders, expanded per run); null
 *                       for a job of files whose allowed_sources name URL prefixes for a run's source parameter
 * @param allowed        URL prefixes a fetch may reach besides the source's own directory
 * @param credentialsEnv the environment variable whose value is sent as {@code Authorization}, or null
 * @param maxBytes       the most bytes of content (after gzip) a fetch may bring
 */
public record RemoteSource(String url, List<Prefix> allowed, String credentialsEnv, Duration connectTimeout,
                           Duration readTimeout, long maxBytes, int maxRedirects) {
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(30);
    public static final long DEFAULT_MAX_BYTES = 1L << 30;
    public static final int DEFAULT_MAX_REDIRECTS = 5;
    /** Keys that only apply to a remote source. */
    static final List<String> KEYS = List.of("credentials_env", "connect_timeout", "read_timeout", "max_size", "max_redirects");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");
    private static final Pattern SIZE = Pattern.compile("(\\d{1,15})\\s*(B|KB|MB|GB|TB)?", Pattern.CASE_INSENSITIVE);

    public RemoteSource {
        allowed = List.copyOf(allowed);
    }

    /** Whether {@code s} is written as a URL (and so is not a path). */
    public static boolean isUrl(String s) {
        String l = s == null ? "" : s.strip().toLowerCase(Locale.ROOT);
        return l.startsWith("https://") || l.startsWith("http://") || l.matches("[a-z][a-z0-9+.-]*://.*");
    }

    /**
     * A URL prefix: scheme, host, port and a path prefix (whole segments). A URL matches when all
     * four do; the comparison is on the parsed URL, so {@code https://host.evil/} never matches
     * {@code https://host/}.
     */
    public record Prefix(String scheme, String host, int port, String path) {
        /** Parses an allowed_sources entry or a source's directory; throws with the reason. */
        public static Prefix parse(String text) {
            URI u = url(text);
            String path = u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath();
            if (u.getRawQuery() != null || u.getRawFragment() != null) {
                throw new IllegalArgumentException("'" + text + "': an allowed source is a URL prefix, without ? or #");
            }
            return new Prefix(u.getScheme().toLowerCase(Locale.ROOT), u.getHost().toLowerCase(Locale.ROOT), portOf(u), path);
        }

        /** The prefix of everything beside {@code u}: its directory. */
        static Prefix directoryOf(URI u) {
            String path = u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath();
            return new Prefix(u.getScheme().toLowerCase(Locale.ROOT), u.getHost().toLowerCase(Locale.ROOT), portOf(u),
                    path.substring(0, path.lastIndexOf('/') + 1));
        }

        public boolean matches(URI u) {
            if (u.getScheme() == null || u.getHost() == null || !scheme.equals(u.getScheme().toLowerCase(Locale.ROOT))
                    || !host.equals(u.getHost().toLowerCase(Locale.ROOT)) || port != portOf(u)) {
                return false;
            }
            String p = u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath();
            if (p.contains("/../") || p.endsWith("/..") || p.contains("/./")) {
                return false;   // never judged by a prefix a path that climbs out of it
            }
            return path.endsWith("/") ? p.startsWith(path) : p.equals(path) || p.startsWith(path + "/");
        }

        @Override
        public String toString() {
            int dflt = scheme.equals("https") ? 443 : 80;
            return scheme + "://" + host + (port == dflt ? "" : ":" + port) + path;
        }
    }

    /**
     * Parses and checks a URL a fetch may use: http or https, a host, no user or password in it
     * (credentials come from the environment, so that the URL can be logged and shown).
     */
    public static URI url(String text) {
        URI u;
        try {
            u = new URI(text.strip());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("'" + text + "' is not a valid URL: " + e.getReason());
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("https") && !scheme.equals("http")) {
            throw new IllegalArgumentException("'" + text + "': only https:// (or http:// where allowed_sources names it) URLs can be fetched");
        }
        if (u.getHost() == null || u.getHost().isEmpty()) {
            throw new IllegalArgumentException("'" + text + "' has no host");
        }
        if (u.getRawUserInfo() != null) {
            throw new IllegalArgumentException("a URL must not carry a user or password (it is logged and shown):"
                    + " put the Authorization value in an environment variable named by credentials_env");
        }
        return u;
    }

    /** The URL's port, its scheme's default when it names none. */
    public static int portOf(URI u) {
        return u.getPort() >= 0 ? u.getPort() : u.getScheme().equalsIgnoreCase("https") ? 443 : 80;
    }

    /**
     * Whether a fetch may reach {@code u}: inside the source's own directory (https only) or an
     * allowed_sources prefix. Plain http only where an allowed_sources entry names it.
     *
     * @param source the run's source URL, expanded
     */
    public String refusal(URI source, URI u) {
        if (u.getRawUserInfo() != null) {
            return u.getHost() + ": a URL with a user or password is refused";
        }
        boolean own = source != null && "https".equalsIgnoreCase(source.getScheme()) && Prefix.directoryOf(source).matches(u);
        if (own || allowed.stream().anyMatch(p -> p.matches(u))) {
            return null;
        }
        String prefixes = String.join(", ", allowed.stream().map(Prefix::toString).toList());
        return redact(u) + " is outside " + (source == null ? "allowed_sources (" + prefixes + ")"
                : allowed.isEmpty() ? "the source's own directory " + Prefix.directoryOf(source)
                : "the source's directory " + Prefix.directoryOf(source) + " and allowed_sources (" + prefixes + ")");
    }

    /** The URL as it may be logged: without its query, which may carry a signature or a token. */
    public static String redact(URI u) {
        return u.getScheme() + "://" + u.getRawAuthority() + (u.getRawPath() == null ? "" : u.getRawPath())
                + (u.getRawQuery() == null ? "" : "?…");
    }

    /** Reads the remote keys of a batch-import whose source is {@code url}; problems are recorded on {@code r}. */
    static RemoteSource read(ParamsReader r, String url, List<String> allowedTexts) {
        List<Prefix> allowed = new ArrayList<>();
        for (String a : allowedTexts) {
            try {
                allowed.add(Prefix.parse(a));
            } catch (IllegalArgumentException e) {
                r.problem("allowed_sources", e.getMessage());
            }
        }
        String env = r.string("credentials_env");
        if (env != null && !ENV_NAME.matcher(env).matches()) {
            r.problem("credentials_env", "must name an environment variable (letters, digits and _), got '" + env + "'");
        }
        Duration connect = r.duration("connect_timeout", DEFAULT_CONNECT_TIMEOUT);
        Duration read = r.duration("read_timeout", DEFAULT_READ_TIMEOUT);
        for (String k : List.of("connect_timeout", "read_timeout")) {
            Duration d = k.equals("connect_timeout") ? connect : read;
            if (d != null && (d.isZero() || d.isNegative() || d.compareTo(Duration.ofHours(1)) > 0)) {
                r.problem(k, "must be between 1ms and 1h");
            }
        }
        long maxBytes = size(r);
        int redirects = DEFAULT_MAX_REDIRECTS;
        String red = r.string("max_redirects");
        if (red != null) {
            try {
                redirects = Integer.parseInt(red.strip());
            } catch (NumberFormatException e) {
                redirects = -1;
            }
            if (redirects < 0 || redirects > 10) {
                r.problem("max_redirects", "must be a whole number from 0 to 10, got '" + red + "'");
            }
        }
        if (url == null) {
            return new RemoteSource(null, allowed, env, connect, read, maxBytes, redirects);
        }
        URI u;
        try {
            u = url(PeriodTemplate.uses(url) ? url.replaceAll("\\{[^}]*}", "x") : url);
        } catch (IllegalArgumentException e) {
            r.problem("source", e.getMessage());
            return null;
        }
        if (u.getScheme().equalsIgnoreCase("http") && allowed.stream().noneMatch(p -> p.matches(u))) {
            r.problem("source", "plain http:// is fetched only where allowed_sources names it (e.g. allowed_sources: ["
                    + Prefix.directoryOf(u) + "]); use https://");
        }
        return new RemoteSource(url.strip(), allowed, env, connect, read, maxBytes, redirects);
    }

    private static long size(ParamsReader r) {
        String t = r.string("max_size");
        if (t == null) {
            return DEFAULT_MAX_BYTES;
        }
        var m = SIZE.matcher(t.strip());
        if (!m.matches()) {
            r.problem("max_size", "must be a size such as 500MB or 2GB, got '" + t + "'");
            return DEFAULT_MAX_BYTES;
        }
        String unit = m.group(2) == null ? "B" : m.group(2).toUpperCase(Locale.ROOT);
        int shift = switch (unit) {
            case "KB" -> 10;
            case "MB" -> 20;
            case "GB" -> 30;
            case "TB" -> 40;
            default -> 0;
        };
        long n = Long.parseLong(m.group(1));
        if (n == 0 || Long.numberOfLeadingZeros(n) <= shift) {
            r.problem("max_size", "must be between 1 byte and 8EB, got '" + t + "'");
            return DEFAULT_MAX_BYTES;
        }
        return n << shift;
    }
}

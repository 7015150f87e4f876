package dev.nightshift.http;

import com.sun.net.httpserver.HttpExchange;
import dev.nightshift.audit.Actor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;

/** One HTTP request as handlers see it: method, path, route captures, query, headers, a size-limited body, its actor. */
final class Request {
    /** Bodies are small JSON objects (trigger parameters); anything bigger is refused. */
    static final int MAX_BODY = 64 * 1024;
    /**
     * A body somewhat too large is read to its end before the 413, so that the client, still
     * sending, gets the answer and not a reset connection; beyond this the connection is dropped.
     */
    static final int MAX_DRAIN = 1024 * 1024;

    private final HttpExchange exchange;
    private final Matcher route;
    private final Map<String, String> query;
    private Actor actor = Actor.ANONYMOUS;

    Request(HttpExchange exchange, Matcher route) {
        this.exchange = exchange;
        this.route = route;
        this.query = parseQuery(exchange.getRequestURI().getRawQuery());
    }

    String method() {
        return exchange.getRequestMethod();
    }

    String path() {
        return exchange.getRequestURI().getPath();
    }

    /** A named group of the route's pattern. */
    String param(String name) {
        return route.group(name);
    }

    /** A query parameter, null when absent or empty. */
    String query(String name) {
        String v = query.get(name);
        return v == null || v.isEmpty() ? null : v;
    }

    /** Who sent it, as the router found (anonymous on open routes). */
    Actor actor() {
        return actor;
    }

    void actor(Actor a) {
        this.actor = a;
    }

    /** The address the connection comes from (a proxy's, behind one). */
    java.net.InetAddress remoteAddress() {
        return exchange.getRemoteAddress().getAddress();
    }

    String header(String name) {
        return exchange.getRequestHeaders().getFirst(name);
    }

    /** The body as UTF-8 text; 413 when it is longer than {@link #MAX_BODY}. */
    String body() throws IOException {
        String length = header("Content-Length");
        if (length != null && length.matches("\\d{1,18}") && Long.parseLong(length) > MAX_DRAIN) {
            throw tooLarge();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        long total = 0;
        try (InputStream in = exchange.getRequestBody()) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                total += n;
                if (total > MAX_DRAIN) {
                    throw tooLarge();
                }
                if (total <= MAX_BODY) {
                    out.write(buffer, 0, n);
                }
            }
        }
        if (total > MAX_BODY) {
            throw tooLarge();
        }
        try {
            // Strict: a lenient decode would store replacement characters in place of the bad bytes.
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(out.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            throw new HttpError(400, "request body is not valid UTF-8");
        }
    }

    private static HttpError tooLarge() {
        return new HttpError(413, "request body larger than " + MAX_BODY + " bytes");
    }

    private static Map<String, String> parseQuery(String raw) {
        Map<String, String> m = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return m;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String k = decode(eq < 0 ? pair : pair.substring(0, eq));
            String v = eq < 0 ? "" : decode(pair.substring(eq + 1));
            m.putIfAbsent(k, v);
        }
        return m;
    }

    private static String decode(String s) {
        String v;
        try {
            v = URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new HttpError(400, "malformed query string");
        }
        if (v.indexOf('\0') >= 0) {
            // PostgreSQL text cannot hold it: refused here rather than as a failed query
            throw new HttpError(400, "query string contains a NUL character");
        }
        return v;
    }
}

package dev.nightshift.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;

/**
 * The bearer-token check of state-changing requests. Both tokens are hashed before the
 * constant-time comparison, so neither the content nor the length of the configured token leaks
 * through timing. Without a configured token every such request is refused. Immutable.
 */
final class Auth {
    private static final String PREFIX = "Bearer ";
    private final byte[] expected;

    Auth(String token) {
        this.expected = token == null ? null : sha256(token);
    }

    boolean enabled() {
        return expected != null;
    }

    /** Returns normally when the request carries the admin token; throws 403 or 401 otherwise. */
    void check(Request r) {
        if (expected == null) {
            throw new HttpError(403, "state-changing requests are disabled: NIGHTSHIFT_ADMIN_TOKEN is not set on this node");
        }
        String header = r.header("Authorization");
        if (header == null || !header.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
            throw unauthorized("missing Authorization: Bearer <token> header");
        }
        if (!MessageDigest.isEqual(expected, sha256(header.substring(PREFIX.length()).trim()))) {
            throw unauthorized("wrong admin token");
        }
    }

    private static HttpError unauthorized(String message) {
        return new HttpError(401, message, Map.of("WWW-Authenticate", "Bearer realm=\"nightshift\""));
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}

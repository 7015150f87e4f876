package dev.nightshift.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Map;

/**
 * The token checks of the port. State-changing requests need the admin token; reads (the dashboard
 * and the API's GETs) need the read token or the admin token when a read token is configured, and
 * nothing otherwise. A token comes as {@code Authorization: Bearer <token>}, or for reads as the
 * password of HTTP Basic (any user name), which a browser asks for and then sends by itself. Every
 * token is hashed before the constant-time comparison, so neither the content nor the length of a
 * configured token leaks through timing, and a read compares against both tokens whatever matches.
 * Without an admin token every state-changing request is refused. Immutable.
 */
final class Auth {
    private static final String BEARER = "Bearer ";
    private static final String BASIC = "Basic ";
    private final byte[] admin;
    private final byte[] read;

    Auth(String adminToken, String readToken) {
        this.admin = adminToken == null ? null : sha256(adminToken);
        this.read = readToken == null ? null : sha256(readToken);
    }

    /** Returns normally when the request carries the admin token; throws 403 or 401 otherwise. */
    void check(Request r) {
        if (admin == null) {
            throw new HttpError(403, "state-changing requests are disabled: NIGHTSHIFT_ADMIN_TOKEN is not set on this node");
        }
        String header = r.header("Authorization");
        if (header == null || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            throw unauthorized("missing Authorization: Bearer <token> header", "Bearer realm=\"nightshift\"");
        }
        if (!MessageDigest.isEqual(admin, sha256(header.substring(BEARER.length()).trim()))) {
            throw unauthorized("wrong admin token", "Bearer realm=\"nightshift\"");
        }
    }

    /** Returns normally when reads are open or the request carries the read or the admin token; throws 401 otherwise. */
    void checkRead(Request r) {
        if (read == null) {
            return;
        }
        String given = presented(r.header("Authorization"));
        if (given == null) {
            throw unauthorized("reading needs the read token: Authorization: Bearer <token> (NIGHTSHIFT_READ_TOKEN)", READ_CHALLENGE);
        }
        byte[] hash = sha256(given);
        boolean readOk = MessageDigest.isEqual(read, hash);
        boolean adminOk = admin != null && MessageDigest.isEqual(admin, hash);
        if (!(readOk | adminOk)) {
            throw unauthorized("wrong read token", READ_CHALLENGE);
        }
    }

    /** A browser offered Basic asks its user; an API client reads Bearer. */
    private static final String READ_CHALLENGE = "Basic realm=\"nightshift\", Bearer realm=\"nightshift\"";

    /** The token of a Bearer header or the password of a Basic one; null when there is none. */
    private static String presented(String header) {
        if (header == null) {
            return null;
        }
        if (header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return header.substring(BEARER.length()).trim();
        }
        if (header.regionMatches(true, 0, BASIC, 0, BASIC.length())) {
            try {
                String pair = new String(Base64.getDecoder().decode(header.substring(BASIC.length()).trim()), StandardCharsets.UTF_8);
                int colon = pair.indexOf(':');
                return colon < 0 ? null : pair.substring(colon + 1);
            } catch (IllegalArgumentException e) {
                return null;   // not Base64: as if no credentials came
            }
        }
        return null;
    }

    private static HttpError unauthorized(String message, String challenge) {
        return new HttpError(401, message, Map.of("WWW-Authenticate", challenge));
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}

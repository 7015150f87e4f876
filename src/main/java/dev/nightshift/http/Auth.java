package dev.nightshift.http;

import dev.nightshift.audit.Actor;
import dev.nightshift.audit.Role;
import dev.nightshift.config.Settings;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Who a request comes from, and whether that one may read or act. An actor is named by a token:
 * the single admin token (actor {@code admin}), the single read token ({@code read}), or a named
 * token of {@code NIGHTSHIFT_TOKENS_FILE} (its name and role); or, from a configured proxy address
 * only, by the {@code X-Forwarded-User} header (with {@code NIGHTSHIFT_PROXY_ROLE}). A token comes
 * as {@code Authorization: Bearer <token>}, or for reads as the password of HTTP Basic (any user
 * name), which a browser asks for and then sends by itself. Every token is hashed before the
 * constant-time comparisons, which go through every known token whatever matches, so neither the
 * content nor the length of a configured token leaks through timing. Without any way to name an
 * actor who may act, every state-changing request is refused. Thread-safe.
 */
final class Auth {
    private static final String BEARER = "Bearer ";
    private static final String BASIC = "Basic ";
    static final String PROXY_HEADER = "X-Forwarded-User";
    /** A browser offered Basic asks its user; an API client reads Bearer. */
    private static final String READ_CHALLENGE = "Basic realm=\"nightshift\", Bearer realm=\"nightshift\"";
    private static final String WRITE_CHALLENGE = "Bearer realm=\"nightshift\"";

    private final byte[] admin;
    private final byte[] read;
    private final TokenFile tokens;
    private final List<InetAddress> proxies;
    private final Role proxyRole;

    Auth(String adminToken, String readToken, TokenFile tokens, List<InetAddress> proxies, Role proxyRole) {
        this.admin = adminToken == null ? null : sha256(adminToken);
        this.read = readToken == null ? null : sha256(readToken);
        this.tokens = tokens;
        this.proxies = List.copyOf(proxies);
        this.proxyRole = proxyRole;
    }

    /** The port's checks as the settings ask; a bad tokens file stops the node here, with every bad line. */
    static Auth of(Settings s) {
        List<InetAddress> proxies = new ArrayList<>();
        for (String p : s.trustedProxies()) {
            try {
                proxies.add(InetAddress.getByName(p));   // a literal (Settings checked it): nothing is resolved
            } catch (UnknownHostException e) {
                throw new IllegalStateException("trusted_proxies: '" + p + "' is not an IP address", e);
            }
        }
        return new Auth(s.adminToken(), s.readToken(), s.tokensFile() == null ? null : TokenFile.load(s.tokensFile()),
                proxies, Role.parse(s.proxyRole()));
    }

    /** Whether anyone at all could act: some token or a trusted proxy is configured. */
    boolean actorsConfigured() {
        return admin != null || tokens != null || !proxies.isEmpty();
    }

    /** Whether reads need a token: a read token or a tokens file is configured. */
    boolean readsClosed() {
        return read != null || tokens != null;
    }

    /**
     * The actor of a state-changing request, of the operator role or above; throws 403 when no one
     * may act on this node or the actor's role only reads, 401 without a known token.
     */
    Actor writer(Request r) {
        if (!actorsConfigured()) {
            throw new HttpError(403, "state-changing requests are disabled: neither NIGHTSHIFT_ADMIN_TOKEN nor"
                    + " NIGHTSHIFT_TOKENS_FILE nor NIGHTSHIFT_TRUSTED_PROXIES is set on this node");
        }
        Actor proxied = proxied(r);
        if (proxied == null) {
            String header = r.header("Authorization");
            if (header == null || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
                throw unauthorized("missing Authorization: Bearer <token> header", WRITE_CHALLENGE);
            }
            proxied = known(header.substring(BEARER.length()).trim());
            if (proxied == null) {
                throw unauthorized(tokens == null ? "wrong admin token" : "unknown token", WRITE_CHALLENGE);
            }
        }
        if (!proxied.role().atLeast(Role.OPERATOR)) {
            throw new HttpError(403, "'" + proxied.name() + "' has the role read: it cannot change anything");
        }
        return proxied;
    }

    /** The actor of a read: anonymous when reads are open, else the one of a known token; 401 otherwise. */
    Actor reader(Request r) {
        Actor proxied = proxied(r);
        if (proxied != null) {
            return proxied;
        }
        String given = presented(r.header("Authorization"));
        Actor known = given == null ? null : known(given);
        if (known != null || !readsClosed()) {
            return known == null ? Actor.ANONYMOUS : known;
        }
        throw unauthorized(given == null
                ? "reading needs the read token: Authorization: Bearer <token> (NIGHTSHIFT_READ_TOKEN or NIGHTSHIFT_TOKENS_FILE)"
                : "wrong read token", READ_CHALLENGE);
    }

    /** The user a trusted proxy names; null when the request does not come from one or names none. */
    private Actor proxied(Request r) {
        String user = r.header(PROXY_HEADER);
        if (user == null || proxies.isEmpty() || !proxies.contains(r.remoteAddress())) {
            return null;   // from anywhere else, the header is ignored: anyone can send it
        }
        try {
            return new Actor(user.strip(), proxyRole);
        } catch (IllegalArgumentException e) {
            throw new HttpError(400, PROXY_HEADER + ": " + e.getMessage());
        }
    }

    /** The actor whose token this is, or null; compares against every token whatever matches. */
    private Actor known(String token) {
        byte[] hash = sha256(token);
        Actor found = null;
        if (admin != null && MessageDigest.isEqual(admin, hash)) {
            found = Actor.ADMIN_TOKEN;
        }
        if (read != null && MessageDigest.isEqual(read, hash)) {
            found = Actor.READ_TOKEN;
        }
        if (tokens != null) {
            for (TokenFile.Entry e : tokens.entries()) {
                if (MessageDigest.isEqual(e.hash(), hash)) {
                    found = e.actor();
                }
            }
        }
        return found;
    }

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

    static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}

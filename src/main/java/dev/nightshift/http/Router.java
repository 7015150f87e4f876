package dev.nightshift.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.nightshift.audit.Actor;
import dev.nightshift.db.SqlStates;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dispatches every request of the port to its route: 404 for an unknown path, 405 for a known one
 * with another method, an actor of the operator role or above for every state-changing method (a
 * handler asks for more where its action needs it), the read token for every
 * other route but the open ones (probes and metrics), and an error response
 * instead of any exception (the stack trace goes to the log, never to the client). Thread-safe
 * once built.
 */
final class Router implements HttpHandler {
    private static final Logger log = LoggerFactory.getLogger(Router.class);

    /** What serves one route. */
    @FunctionalInterface
    interface Handler {
        Response handle(Request r) throws Exception;
    }

    private record Route(String method, Pattern path, Handler handler, boolean open) {
    }

    private final List<Route> routes = new ArrayList<>();
    private final Auth auth;

    Router(Auth auth) {
        this.auth = auth;
    }

    Router get(String path, Handler h) {
        routes.add(new Route("GET", Pattern.compile(path), h, false));
        return this;
    }

    /** A GET route that needs no token even when a read token is set: probes and metrics, for kubelets and Prometheus. */
    Router open(String path, Handler h) {
        routes.add(new Route("GET", Pattern.compile(path), h, true));
        return this;
    }

    Router post(String path, Handler h) {
        routes.add(new Route("POST", Pattern.compile(path), h, false));
        return this;
    }

    @Override
    public void handle(HttpExchange ex) throws IOException {
        Response response;
        try {
            response = dispatch(ex);
        } catch (HttpError e) {
            response = Response.error(e.status, e.getMessage());
            for (Map.Entry<String, String> h : e.headers.entrySet()) {
                response = response.withHeader(h.getKey(), h.getValue());
            }
        } catch (Actor.NotAllowedException e) {
            response = Response.error(403, e.getMessage());
        } catch (Exception e) {
            response = failure(ex, e);
        }
        send(ex, response);
    }

    private Response dispatch(HttpExchange ex) throws Exception {
        String path = ex.getRequestURI().getPath();
        if (path.indexOf('\0') >= 0) {
            throw new HttpError(404, "no such resource: the path contains a NUL character");
        }
        String method = ex.getRequestMethod();
        boolean head = method.equals("HEAD");
        TreeSet<String> allowed = new TreeSet<>();
        for (Route route : routes) {
            Matcher m = route.path().matcher(path);
            if (!m.matches()) {
                continue;
            }
            if (route.method().equals(method) || head && route.method().equals("GET")) {
                Request r = new Request(ex, m);
                if (!route.method().equals("GET")) {
                    r.actor(auth.writer(r));
                } else if (!route.open()) {
                    r.actor(auth.reader(r));
                }
                return route.handler().handle(r);
            }
            allowed.add(route.method());
        }
        if (allowed.isEmpty()) {
            throw new HttpError(404, "no such resource: " + path);
        }
        if (allowed.contains("GET")) {
            allowed.add("HEAD");
        }
        throw new HttpError(405, "method " + method + " not allowed here; use " + String.join(", ", allowed),
                Map.of("Allow", String.join(", ", allowed)));
    }

    private static Response failure(HttpExchange ex, Exception e) {
        if (SqlStates.isConnectionError(e)) {
            log.warn("{} {}: database unreachable: {}", ex.getRequestMethod(), ex.getRequestURI().getPath(), e.toString());
            return Response.error(503, "database unreachable; try again shortly");
        }
        log.warn("{} {} failed", ex.getRequestMethod(), ex.getRequestURI().getPath(), e);
        return Response.error(500, "internal error; the node's log has the details");
    }

    private static void send(HttpExchange ex, Response r) throws IOException {
        var h = ex.getResponseHeaders();
        h.set("Content-Type", r.contentType());
        h.set("X-Content-Type-Options", "nosniff");
        h.set("Cache-Control", "no-store");
        r.headers().forEach(h::set);
        boolean noBody = ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(r.status(), noBody ? -1 : r.body().length == 0 ? -1 : r.body().length);
        if (!noBody && r.body().length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(r.body());
            }
        }
        ex.close();
    }
}

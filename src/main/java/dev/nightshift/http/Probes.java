package dev.nightshift.http;

import dev.nightshift.metrics.Metrics;
import java.util.Map;

/** /livez, /readyz and /metrics: what kubelet, load balancers and Prometheus call. Thread-safe. */
final class Probes {
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private final Readiness readiness;
    private final Metrics metrics;

    Probes(Readiness readiness, Metrics metrics) {
        this.readiness = readiness;
        this.metrics = metrics;
    }

    void routes(Router r) {
        r.open("/livez", this::livez);
        r.open("/readyz", this::readyz);
        r.open("/metrics", this::metrics);
    }

    /** The process answers: no database check, so that an outage never gets the pod restarted. */
    private Response livez(Request r) {
        return Response.json(200, Map.of("status", "alive"));
    }

    private Response readyz(Request r) {
        Readiness.State s = readiness.state();
        return s.ready() ? Response.json(200, Map.of("status", "ready"))
                : Response.json(503, Map.of("status", "not ready", "reason", s.reason()));
    }

    private Response metrics(Request r) {
        return Response.text(200, PROMETHEUS_TEXT, metrics.scrape());
    }
}

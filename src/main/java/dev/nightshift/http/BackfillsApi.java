package dev.nightshift.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.nightshift.json.Json;
import dev.nightshift.schedule.BackfillView;
import dev.nightshift.schedule.Backfills;
import dev.nightshift.schedule.LogicalTime;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Backfills over HTTP: {@code POST /api/jobs/NAME/backfill} (or a dry run), {@code GET /api/backfills},
 * {@code GET /api/backfills/ID}, {@code POST /api/backfills/ID/cancel}. Thread-safe.
 */
final class BackfillsApi {
    private static final String BACKFILL = "/api/backfills/(?<id>[0-9]{1,18})";
    private static final Set<String> FIELDS = Set.of("from", "to", "reprocess", "maxActive", "reverse", "dryRun");

    private final Backfills backfills;

    BackfillsApi(Backfills backfills) {
        this.backfills = backfills;
    }

    void routes(Router r) {
        r.post("/api/jobs/(?<name>[^/]+)/backfill", this::start);
        r.get("/api/backfills", req -> Response.json(200, Map.of("backfills", backfills.list(100))));
        r.get(BACKFILL, req -> Response.json(200, find(id(req))));
        r.post(BACKFILL + "/cancel", this::cancel);
    }

    /** 201 with the backfill; with {@code "dryRun": true}, 200 with the plan and nothing changed. */
    private Response start(Request r) throws Exception {
        JsonNode body = body(r.body());
        Backfills.Request request = request(r.param("name"), body);
        try {
            if (body.path("dryRun").asBoolean(false)) {
                Backfills.Plan plan = backfills.plan(request);
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("job", plan.job());
                out.put("slots", plan.slots());
                return Response.json(200, out);
            }
            long id = backfills.start(request, r.actor());
            return Response.json(201, Map.of("backfill", find(id))).withHeader("Location", "/api/backfills/" + id);
        } catch (Backfills.RefusedException e) {
            throw new HttpError(e.getMessage().startsWith("unknown job") ? 404 : 400, e.getMessage());
        }
    }

    private Response cancel(Request r) throws Exception {
        long id = id(r);
        Optional<String> outcome = backfills.cancel(id, r.actor());
        if (outcome.isEmpty()) {
            throw new HttpError(404, "no backfill " + id);
        }
        BackfillView v = find(id);
        boolean changed = outcome.get().contains(" cancelled:");
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("changed", changed);
        out.put("message", outcome.get());
        if (!changed) {
            out.put("error", outcome.get());
        }
        out.put("backfill", v);
        return Response.json(changed ? 200 : 409, out);
    }

    private BackfillView find(long id) throws Exception {
        return backfills.find(id).orElseThrow(() -> new HttpError(404, "no backfill " + id));
    }

    private static long id(Request r) {
        return Long.parseLong(r.param("id"));
    }

    private static JsonNode body(String text) {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(text.isBlank() ? "{}" : text);
        } catch (JsonProcessingException e) {
            throw new HttpError(400, "body is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new HttpError(400, "body must be a JSON object: {\"from\": \"...\", \"to\": \"...\"}");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                throw new HttpError(400, "unknown field '" + f + "'; expected from, to, reprocess, maxActive, reverse, dryRun");
            }
        }
        return root;
    }

    private static Backfills.Request request(String job, JsonNode b) {
        Instant from = time("from", b.path("from"));
        Instant to = time("to", b.path("to"));
        Backfills.Reprocess reprocess;
        try {
            reprocess = Backfills.Reprocess.parse(b.path("reprocess").asText("none"));
        } catch (IllegalArgumentException e) {
            throw new HttpError(400, e.getMessage());
        }
        JsonNode max = b.path("maxActive");
        Integer maxActive = null;
        if (!max.isMissingNode() && !max.isNull()) {
            if (!max.canConvertToInt() || !max.isIntegralNumber() || max.asInt() < 1) {
                throw new HttpError(400, "maxActive must be a whole number of at least 1");
            }
            maxActive = max.asInt();
        }
        return new Backfills.Request(job, from, to, reprocess, maxActive, b.path("reverse").asBoolean(false));
    }

    private static Instant time(String field, JsonNode n) {
        if (!n.isTextual()) {
            throw new HttpError(400, field + " is required: a time such as \"2026-03-01T00:00Z\"");
        }
        try {
            return LogicalTime.parseAt(n.asText());
        } catch (IllegalArgumentException e) {
            throw new HttpError(400, field + ": " + e.getMessage().replaceFirst("^at ", ""));
        }
    }
}

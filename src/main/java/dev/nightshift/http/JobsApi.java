package dev.nightshift.http;

import dev.nightshift.audit.Action;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.nightshift.config.JobCatalog;
import dev.nightshift.config.JobDefinition;
import dev.nightshift.jobs.AimedSource;
import dev.nightshift.json.Json;
import dev.nightshift.db.Tx;
import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.Period;
import dev.nightshift.schedule.LogicalTime;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import dev.nightshift.queue.RunParams;
import dev.nightshift.queue.RunQueries;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.schedule.JobListing;
import dev.nightshift.schedule.Pauses;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;

/**
 * {@code /api/jobs}: list, show, trigger (with parameters and an idempotency key), pause, resume.
 * Thread-safe.
 */
final class JobsApi {
    private static final String JOB = "/api/jobs/(?<name>[^/]+)";
    private static final Set<String> TRIGGER_FIELDS = Set.of("params", "key", "at", "override_guards");

    private final JobListing listing;
    private final Pauses pauses;
    private final RunQueue queue;
    private final RunQueries runs;
    private final JobCatalog catalog;
    private final DataSource ds;
    private final LogicalTime logicalTime;

    JobsApi(DataSource ds, JobCatalog catalog, Clock clock) {
        this.catalog = catalog;
        this.ds = ds;
        this.logicalTime = new LogicalTime(clock);
        this.listing = new JobListing(ds, clock);
        this.pauses = new Pauses(ds);
        this.queue = new RunQueue(ds);
        this.runs = new RunQueries(ds);
    }

    void routes(Router r) {
        r.get("/api/jobs", req -> Response.json(200, Map.of("jobs", listing.all())));
        r.get(JOB, this::show);
        r.post(JOB + "/trigger", this::trigger);
        r.post(JOB + "/pause", req -> pause(req, true));
        r.post(JOB + "/resume", req -> pause(req, false));
    }

    private Response show(Request r) throws Exception {
        String name = r.param("name");
        return Response.json(200, listing.find(name).orElseThrow(() -> unknownJob(name)));
    }

    /** 201 with the new run; 200 with the existing run when the idempotency key was used before. */
    private Response trigger(Request r) throws Exception {
        String name = r.param("name");
        Trigger t = parseTrigger(r.body());
        List<String> problems = RunParams.problems(t.params(), t.key());
        if (!problems.isEmpty()) {
            throw new HttpError(400, String.join("; ", problems));
        }
        checkSource(name, t.params().get(AimedSource.PARAM));
        RunQueue.Enqueued e;
        try {
            Period period = period(name, t.at());
            if (t.overrideGuards()) {
                r.actor().require(Action.GUARD_OVERRIDE);
            }
            Map<String, String> params = t.overrideGuards() ? RunParams.overridingGuards(t.params(), r.actor().name()) : t.params();
            e = queue.enqueue(NewRun.manual(name, params, t.key(), period).by(r.actor()));
        } catch (RunQueue.UnknownJobException ex) {
            throw unknownJob(name);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("created", e.created());
        body.put("run", runs.find(e.id()).orElse(null));
        return Response.json(e.created() ? 201 : 200, body).withHeader("Location", "/api/runs/" + e.id());
    }

    /** A batch-import's source parameter, checked before anything is enqueued (the worker checks it again). */
    private void checkSource(String job, String source) {
        if (source == null) {
            return;
        }
        JobDefinition d = catalog.find(job).orElse(null);
        if (d == null || !AimedSource.applies(d)) {
            return;
        }
        try {
            AimedSource.check(d, source);
        } catch (AimedSource.RefusedException e) {
            throw new HttpError(400, e.getMessage());
        }
    }

    private Period period(String job, Instant at) throws SQLException {
        try {
            return Tx.call(ds, c -> logicalTime.ofTrigger(c, job, at)).orElse(null);
        } catch (LogicalTime.NotASlotException e) {
            throw new HttpError(400, "at: " + e.getMessage());
        }
    }

    private record Trigger(Map<String, String> params, String key, Instant at, boolean overrideGuards) {
    }

    /** An empty body is a trigger without parameters; otherwise {"params": {...}, "key": "..."}. */
    static Trigger parseTrigger(String body) {
        if (body.isBlank()) {
            return new Trigger(Map.of(), null, null, false);
        }
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(body);
        } catch (JsonProcessingException e) {
            var at = e.getLocation();
            throw new HttpError(400, "body is not valid JSON" + (at == null ? "" : " (line " + at.getLineNr() + ", column "
                    + at.getColumnNr() + ")") + "; expected {\"params\": {\"name\": \"value\"}, \"key\": \"...\"}");
        }
        if (root == null || !root.isObject()) {
            throw new HttpError(400, "body must be a JSON object: {\"params\": {\"name\": \"value\"}, \"key\": \"...\", \"at\": \"...\"}");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!TRIGGER_FIELDS.contains(f)) {
                throw new HttpError(400, "unknown field '" + f + "'; expected params, key, at and override_guards");
            }
        }
        JsonNode key = root.path("key");
        if (!key.isMissingNode() && !key.isNull() && !key.isTextual()) {
            throw new HttpError(400, "key must be a string");
        }
        JsonNode at = root.path("at");
        if (!at.isMissingNode() && !at.isNull() && !at.isTextual()) {
            throw new HttpError(400, "at must be a string such as \"2026-03-01T00:00Z\"");
        }
        Instant slot;
        try {
            slot = at.isTextual() ? LogicalTime.parseAt(at.asText()) : null;
        } catch (IllegalArgumentException e) {
            throw new HttpError(400, e.getMessage());
        }
        JsonNode override = root.path("override_guards");
        if (!override.isMissingNode() && !override.isNull() && !override.isBoolean()) {
            throw new HttpError(400, "override_guards must be true or false");
        }
        return new Trigger(params(root.path("params")), key.isTextual() ? key.asText() : null, slot, override.asBoolean(false));
    }

    private static Map<String, String> params(JsonNode node) {
        Map<String, String> params = new LinkedHashMap<>();
        if (node.isMissingNode() || node.isNull()) {
            return params;
        }
        if (!node.isObject()) {
            throw new HttpError(400, "params must be an object of names to values");
        }
        node.properties().forEach(e -> {
            if (!e.getValue().isValueNode() || e.getValue().isNull()) {
                throw new HttpError(400, "param " + e.getKey() + ": the value must be a string, number or boolean");
            }
            params.put(e.getKey(), e.getValue().asText());
        });
        return params;
    }

    private Response pause(Request r, boolean paused) throws Exception {
        String name = r.param("name");
        if (!pauses.set(List.of(name), paused, r.actor()).unknown().isEmpty()) {
            throw unknownJob(name);
        }
        return Response.json(200, listing.find(name).orElseThrow(() -> unknownJob(name)));
    }

    private static HttpError unknownJob(String name) {
        return new HttpError(404, "unknown job '" + name + "'");
    }
}

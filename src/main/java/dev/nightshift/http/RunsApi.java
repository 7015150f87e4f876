package dev.nightshift.http;

import dev.nightshift.audit.Action;
import dev.nightshift.queue.GuardOverride;
import dev.nightshift.queue.RunOps;
import dev.nightshift.queue.RunQueries;
import dev.nightshift.queue.RunView;
import dev.nightshift.runlog.RunLogStore;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/** {@code /api/runs}: list with filters and paging, show, cancel, retry, run again overriding guards. Thread-safe. */
final class RunsApi {
    private static final String RUN = "/api/runs/(?<id>[^/]+)";
    static final int DEFAULT_LIMIT = 50;
    static final int MAX_LIMIT = 1000;

    private final RunQueries queries;
    private final RunOps ops;
    private final GuardOverride override;
    private final RunLogStore logs;
    static final int DEFAULT_LOG_LINES = 1_000;
    static final int MAX_LOG_LINES = 10_000;

    RunsApi(DataSource ds) {
        this.queries = new RunQueries(ds);
        this.ops = new RunOps(ds);
        this.override = new GuardOverride(ds);
        this.logs = new RunLogStore(ds);
    }

    void routes(Router r) {
        r.get("/api/runs", this::list);
        r.get(RUN, this::show);
        r.get(RUN + "/log", this::log);
        r.post(RUN + "/cancel", req -> act(req, true));
        r.post(RUN + "/retry", req -> act(req, false));
        r.post(RUN + "/override-guards", this::overrideGuards);
    }

    /**
     * A dead run's delivery applied on purpose: 201 with the new run (200 when asked before: the same
     * run), 409 when the run is not dead.
     */
    private Response overrideGuards(Request r) throws Exception {
        long id = runId(r);
        r.actor().require(Action.GUARD_OVERRIDE);
        GuardOverride.Outcome o = override.rerun(id, r.actor()).orElseThrow(() -> noRun(id));
        if (o.refusal() != null) {
            throw new HttpError(409, o.refusal());
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("created", o.enqueued().created());
        body.put("run", queries.find(o.enqueued().id()).orElse(null));
        return Response.json(o.enqueued().created() ? 201 : 200, body).withHeader("Location", "/api/runs/" + o.enqueued().id());
    }

    /** Newest first; {@code nextBefore} is the {@code before} of the next page, null on the last. */
    private Response list(Request r) throws Exception {
        String state = r.query("state");
        if (state != null && !RunQueries.STATES.contains(state)) {
            throw new HttpError(400, "state must be one of available, running, succeeded, dead, cancelled; got '" + state + "'");
        }
        Long before = r.query("before") == null ? null : HttpError.wholeNumber("before", r.query("before"), Long.MAX_VALUE);
        int limit = r.query("limit") == null ? DEFAULT_LIMIT : (int) HttpError.wholeNumber("limit", r.query("limit"), MAX_LIMIT);
        List<RunView> page = queries.list(r.query("job"), state, before, limit);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("runs", page);
        body.put("nextBefore", page.size() == limit ? page.get(page.size() - 1).id() : null);
        return Response.json(200, body);
    }

    /**
     * The run's log after line {@code after} (a seq; 0 or none: from the start), at most {@code limit}
     * lines, with the run's state and the {@code after} of the next call: a follower polls until the
     * state has ended and a call brings nothing new.
     */
    private Response log(Request r) throws Exception {
        long id = runId(r);
        long after = r.query("after") == null ? 0 : HttpError.wholeNumberFrom0("after", r.query("after"));
        int limit = r.query("limit") == null ? DEFAULT_LOG_LINES : (int) HttpError.wholeNumber("limit", r.query("limit"), MAX_LOG_LINES);
        RunView run = queries.find(id).orElseThrow(() -> noRun(id));
        List<RunLogStore.Line> lines = logs.after(id, after, limit);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("run", id);
        body.put("state", run.state());
        body.put("lines", lines);
        body.put("next", lines.isEmpty() ? after : lines.get(lines.size() - 1).seq());
        return Response.json(200, body);
    }

    private Response show(Request r) throws Exception {
        long id = runId(r);
        return Response.json(200, queries.find(id).orElseThrow(() -> noRun(id)));
    }

    /** 200 when the action changed the run, 409 (with the run's state) when its state does not allow it. */
    private Response act(Request r, boolean cancel) throws Exception {
        long id = runId(r);
        RunOps.Outcome o = cancel ? ops.cancel(id, r.actor()) : ops.retry(id, r.actor());
        if (o == null) {
            throw noRun(id);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("changed", o.changed());
        body.put("state", o.state());
        body.put("message", o.message());
        if (!o.changed()) {
            body.put("error", o.message());
        }
        body.put("run", queries.find(id).orElse(null));
        return Response.json(o.changed() ? 200 : 409, body);
    }

    private static long runId(Request r) {
        return HttpError.wholeNumber("run id", r.param("id"), Long.MAX_VALUE);
    }

    private static HttpError noRun(long id) {
        return new HttpError(404, "no run " + id);
    }
}

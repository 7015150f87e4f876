package dev.nightshift.cli;

import dev.nightshift.audit.Actor;
import dev.nightshift.db.Database;
import dev.nightshift.json.Json;
import dev.nightshift.schedule.BackfillView;
import dev.nightshift.schedule.Backfills;
import dev.nightshift.schedule.LogicalTime;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "backfill", mixinStandardHelpOptions = true,
        description = "Run JOB once for each slot of its schedule in [FROM, TO), each with the dedupe key the scheduler "
                + "gives that slot: a slot is never run twice at once, and one the scheduler ran is re-run only as --reprocess says.")
final class BackfillCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "JOB", description = "job name (a job with a schedule)")
    String job;

    @Option(names = "--from", required = true, paramLabel = "TIME", description = "first slot at or after this time (ISO-8601 with offset)")
    String from;

    @Option(names = "--to", required = true, paramLabel = "TIME", description = "slots before this time (exclusive; not in the future)")
    String to;

    @Option(names = "--reprocess", paramLabel = "POLICY", defaultValue = "none",
            description = "slots that already have a finished run: none (leave them), failed (re-run dead and cancelled ones), all (re-run every one)")
    String reprocess;

    @Option(names = "--max-active", paramLabel = "N", description = "at most N of this backfill's runs waiting or running at once")
    Integer maxActive;

    @Option(names = "--reverse", description = "newest slot first (default: oldest first)")
    boolean reverse;

    @Option(names = "--dry-run", description = "print the slots and what would happen to each; change nothing")
    boolean dryRun;

    @Option(names = "--wait", description = "show progress until the backfill is over; exit 0 if every slot succeeded or was left alone, 1 if not")
    boolean await;

    @Option(names = "--json", description = "print the plan (--dry-run) or the backfill as JSON")
    boolean json;

    @Override
    public Integer call() throws Exception {
        quietLogs();
        Backfills.Request request = request();
        try (Database db = openMigrated(settings())) {
            Backfills backfills = new Backfills(db.dataSource(), Clock.systemUTC());
            try {
                if (dryRun) {
                    printPlan(backfills.plan(request));
                    return Main.OK;
                }
                long id = backfills.start(request, Actor.cli());
                BackfillView v = backfills.find(id).orElseThrow();
                if (!await) {
                    out().println(json ? Json.write(v) : describe(v));
                    return Main.OK;
                }
                out().println("backfill " + id + " of job " + job + " started: " + v.slots() + " slots");
                return follow(backfills, id);
            } catch (Backfills.RefusedException e) {
                throw new UsageException(e.getMessage());
            }
        }
    }

    private Backfills.Request request() {
        Instant start = time("--from", from);
        Instant end = time("--to", to);
        Backfills.Reprocess policy;
        try {
            policy = Backfills.Reprocess.parse(reprocess);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--" + e.getMessage());
        }
        if (maxActive != null && maxActive < 1) {
            throw new UsageException("--max-active must be at least 1, got " + maxActive);
        }
        return new Backfills.Request(job, start, end, policy, maxActive, reverse);
    }

    private static Instant time(String option, String text) {
        try {
            return LogicalTime.parseAt(text);
        } catch (IllegalArgumentException e) {
            throw new UsageException(option + ": " + e.getMessage().replaceFirst("^at ", ""));
        }
    }

    private void printPlan(Backfills.Plan plan) {
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("job", plan.job());
            m.put("slots", plan.slots());
            out().println(Json.write(m));
            return;
        }
        out().println("backfill of job " + job + " (dry run, nothing changed): " + plan.slots().size() + " slots, "
                + plan.count("enqueue") + " to enqueue, " + plan.count("rerun") + " to re-run, " + plan.count("skip") + " left alone");
        for (Backfills.SlotPlan s : plan.slots()) {
            out().printf("  %-24s %-8s %s%n", s.slot(), s.action(),
                    s.runId() == null ? "" : "run " + s.runId() + " is " + s.runState());
        }
    }

    static String describe(BackfillView v) {
        return "backfill " + v.id() + " of job " + v.job() + ", " + v.slots() + " slots in [" + v.from() + ", " + v.to() + "): "
                + v.state() + " " + v.bar(30) + " settled: " + v.succeeded() + " succeeded, " + v.failed() + " failed, " + v.cancelled() + " cancelled, "
                + (v.waiting() + v.pending()) + " waiting, " + v.running() + " running, " + v.skipped() + " left alone";
    }

    private int follow(Backfills backfills, long id) throws Exception {
        String last = null;
        long pause = 200;
        while (true) {
            BackfillView v = backfills.find(id).orElseThrow();
            String line = describe(v);
            if (!line.equals(last)) {
                out().println(line);
                last = line;
            }
            boolean over = !v.state().equals("active") || v.pending() + v.waiting() + v.running() == 0;
            if (over) {
                return v.failed() + v.cancelled() == 0 ? Main.OK : Main.FAILED;
            }
            Thread.sleep(pause);
            pause = Math.min(2_000, pause * 2);
        }
    }
}

package dev.nightshift.cli;

import dev.nightshift.db.Database;
import dev.nightshift.json.Json;
import dev.nightshift.schedule.JobListing;
import dev.nightshift.schedule.JobView;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code nightshift jobs}: the jobs with their schedules, pause state and latest run. */
@Command(name = "jobs", mixinStandardHelpOptions = true,
        description = "List the jobs in the database: type, schedule, time zone, next fire time, paused, latest run.")
final class JobsCommand extends BaseCommand {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

    @Option(names = "--json", description = "a JSON array of jobs (fields as in the README)")
    boolean json;

    @Option(names = "--removed", description = "also jobs removed from the catalog (their runs are kept)")
    boolean removed;

    @Override
    public Integer call() throws Exception {
        quietLogs();
        try (Database db = openMigrated(settings())) {
            List<JobView> jobs = new JobListing(db.dataSource()).list(removed);
            if (json) {
                out().println(Json.write(jobs));
                return Main.OK;
            }
            String format = "%-28s %-25s %-18s %-14s %-19s %-7s %-22s %s%n";
            out().printf(format, "JOB", "TYPE", "SCHEDULE", "TIMEZONE", "NEXT FIRE (UTC)", "PAUSED", "DEADLINE", "LAST RUN");
            for (JobView j : jobs) {
                out().printf(format, j.name() + (j.removed() ? " (removed)" : ""), j.type(), schedule(j),
                        j.schedule() == null ? "-" : j.schedule().get("timezone"), time(j.nextFireAt()),
                        j.paused() ? "yes" : "no", deadline(j), lastRun(j));
            }
            if (jobs.isEmpty()) {
                out().println("(no jobs; run `nightshift sync`)");
            }
        }
        return Main.OK;
    }

    private static String schedule(JobView j) {
        if (j.schedule() != null) {
            return j.schedule().get("cron") + (j.schedule().containsKey("calendar") ? " except " + j.schedule().get("calendar") : "")
                    + (j.schedule().containsKey("pick") ? " (" + j.schedule().get("pick") + ")" : "");
        }
        if (!j.afterAll().isEmpty()) {
            return "after all " + String.join(",", j.afterAll()) + (j.waitingFor() == null || j.waitingFor().missing().isEmpty() ? ""
                    : " (waits for " + String.join(",", j.waitingFor().missing()) + ")");
        }
        return j.after().isEmpty() ? "(manual)" : "after " + String.join(",", j.after());
    }

    /** The deadline, and when slots are past it: "LATE: 2 slots, oldest 2026-03-01 05:00:00". */
    private static String deadline(JobView j) {
        if (j.deadline() == null) {
            return "-";
        }
        return j.lateSlots().isEmpty() ? j.deadline() + " (on time)"
                : j.deadline() + " LATE: " + j.lateSlots().size() + " slot" + (j.lateSlots().size() == 1 ? "" : "s")
                        + ", oldest " + time(j.lateSlots().get(0));
    }

    private static String time(Instant t) {
        return t == null ? "-" : TIME.format(t);
    }

    private static String lastRun(JobView j) {
        JobView.LastRun r = j.lastRun();
        return r == null ? "-" : r.state() + (r.finishedAt() == null ? "" : " " + time(r.finishedAt())) + " (run " + r.id() + ")";
    }
}

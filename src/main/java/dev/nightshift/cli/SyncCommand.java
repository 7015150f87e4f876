package dev.nightshift.cli;

import dev.nightshift.config.JobCatalog;
import dev.nightshift.db.Database;
import dev.nightshift.metrics.Metrics;
import dev.nightshift.schedule.QuartzCluster;
import dev.nightshift.schedule.ScheduleSync;
import dev.nightshift.schedule.SchedulerOptions;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import picocli.CommandLine.Command;

/** {@code nightshift sync}: job rows and Quartz triggers from the catalog, as the daemon does at start. */
@Command(name = "sync", mixinStandardHelpOptions = true,
        description = "Write the job catalog into the database and its schedules into Quartz (run also does this at start).")
final class SyncCommand extends BaseCommand {
    @Override
    public Integer call() throws Exception {
        quietLogs();
        var s = settings();
        JobCatalog catalog = JobCatalog.load(s.jobsDir());
        try (Database db = openMigrated(s)) {
            // An unstarted scheduler: it edits the triggers in the database and never fires.
            try (QuartzCluster quartz = QuartzCluster.create(db.dataSource(), s.nodeName(), SchedulerOptions.defaults(),
                    new Metrics(new SimpleMeterRegistry()))) {
                ScheduleSync.Result r = new ScheduleSync(db.dataSource(), quartz).sync(catalog);
                out().printf("synced %d jobs: %s%n", catalog.size(), r.describe());
            }
        }
        return Main.OK;
    }
}

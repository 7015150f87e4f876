package dev.nightshift.cli;

import dev.nightshift.config.JobCatalog;
import dev.nightshift.db.Database;
import dev.nightshift.schedule.CatalogSync;
import picocli.CommandLine.Command;

@Command(name = "sync", mixinStandardHelpOptions = true,
        description = "Write the job catalog into the database (run also does this at start).")
final class SyncCommand extends BaseCommand {
    @Override
    public Integer call() throws Exception {
        quietLogs();
        var s = settings();
        JobCatalog catalog = JobCatalog.load(s.jobsDir());
        try (Database db = openMigrated(s)) {
            CatalogSync.Result r = new CatalogSync(db.dataSource()).sync(catalog);
            out().printf("synced %d jobs: %d added, %d updated, %d removed%n", catalog.size(), r.added(), r.updated(), r.removed());
        }
        return Main.OK;
    }
}

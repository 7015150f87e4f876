package dev.nightshift.cli;

import dev.nightshift.db.Database;
import picocli.CommandLine.Command;

@Command(name = "migrate", mixinStandardHelpOptions = true,
        description = "Create or upgrade the nightshift schema (run also does this at start).")
final class MigrateCommand extends BaseCommand {
    @Override
    public Integer call() {
        quietLogs();
        try (Database db = openMigrated(settings())) {
            out().println("schema " + Database.SCHEMA + " is up to date on " + db.url());
        }
        return Main.OK;
    }
}

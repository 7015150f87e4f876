package dev.nightshift.cli;

import dev.nightshift.config.JobCatalog;
import dev.nightshift.config.JobDefinition;
import picocli.CommandLine.Command;

@Command(name = "validate", mixinStandardHelpOptions = true,
        description = "Check the job catalog: every problem is reported with file and line (exit 2). Touches no database.")
final class ValidateCommand extends BaseCommand {
    @Override
    public Integer call() {
        quietLogs();
        var s = settings();
        JobCatalog catalog = JobCatalog.load(s.jobsDir());
        for (JobDefinition d : catalog.all()) {
            out().printf("%-32s %-26s %s%n", d.name(), d.type(),
                    d.schedule() == null ? (d.after().isEmpty() ? "(manual)" : "after " + String.join(", ", d.after()))
                            : d.schedule().cron() + " " + d.schedule().timezone().getId());
        }
        out().printf("%d jobs in %s: valid%n", catalog.size(), s.jobsDir());
        return Main.OK;
    }
}

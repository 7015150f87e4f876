package dev.nightshift.cli;

import dev.nightshift.config.JobCatalog;
import dev.nightshift.config.JobDefinition;
import dev.nightshift.config.NotifyTarget;
import dev.nightshift.config.Settings;
import dev.nightshift.notify.Notifier;
import java.time.Clock;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code notify test JOB}: a sample notification to the job's webhooks (or the default ones), each result printed. */
@Command(name = "notify", mixinStandardHelpOptions = true,
        description = "notify test JOB: send a sample notification to the job's notify: targets (or the notify setting's),"
                + " and print what each answered. Exit 0 when every target accepted it, 1 when one did not.")
final class NotifyCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "ACTION", description = "test")
    String action;

    @Parameters(index = "1", paramLabel = "JOB", description = "job name")
    String job;

    @Override
    public Integer call() throws Exception {
        quietLogs();
        if (!action.equals("test")) {
            throw new UsageException("unknown action '" + action + "' (known: test)");
        }
        Settings settings = settings();
        JobDefinition d = JobCatalog.load(settings.jobsDir()).find(job).orElseThrow(
                () -> new UsageException("unknown job '" + job + "' in the catalog in " + settings.jobsDir()));
        List<NotifyTarget> targets = d.notifyOff() ? List.of()
                : d.notifyTargets().isEmpty() ? settings.notifications().targets() : d.notifyTargets();
        if (d.notifyOff()) {
            throw new UsageException("job " + job + " has notify: [] (it notifies no one): nothing to send to");
        }
        if (targets.isEmpty()) {
            throw new UsageException("job " + job + " has no notify: targets and the notify setting is unset: nothing to send to");
        }
        boolean all = true;
        for (Notifier.TestResult r : Notifier.test(job, targets, settings, Clock.systemUTC())) {
            out().println((r.delivered() ? "ok      " : "FAILED  ") + r.target() + ": " + r.detail());
            all &= r.delivered();
        }
        return all ? Main.OK : Main.FAILED;
    }
}

package dev.nightshift.cli;

import dev.nightshift.config.Settings;
import picocli.CommandLine.Command;
import sun.misc.Signal;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run the daemon: sync the catalog, claim and execute runs. SIGTERM or SIGINT drains gracefully and exits 0.")
final class RunCommand extends BaseCommand {
    @Override
    public Integer call() throws Exception {
        Settings settings = settings();
        Logging.use(settings.logFormat(), settings.nodeName());
        Daemon daemon = Daemon.start(settings);
        Runnable stop = () -> new Thread(daemon::close, "nightshift-shutdown").start();
        // Handling the signals ourselves (rather than a shutdown hook) lets a drained daemon exit 0, not 143.
        Signal.handle(new Signal("TERM"), sig -> stop.run());
        Signal.handle(new Signal("INT"), sig -> stop.run());
        daemon.awaitStopped();
        return Main.OK;
    }
}

package dev.nightshift.cli;

import dev.nightshift.config.Settings;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import sun.misc.Signal;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run the daemon: sync the catalog, claim and execute runs. SIGTERM or SIGINT drains gracefully and exits 0.")
final class RunCommand extends BaseCommand {
    @Override
    public Integer call() throws Exception {
        Settings settings = settings();
        Logging.use(settings.logFormat(), settings.nodeName());
        AtomicReference<Daemon> running = new AtomicReference<>();
        AtomicBoolean stopRequested = new AtomicBoolean();
        // Handling the signals ourselves (rather than a shutdown hook) lets a drained daemon exit 0,
        // not 143. They are in place before the node starts, so a signal during start-up also drains.
        sun.misc.SignalHandler drain = sig -> {
            stopRequested.set(true);
            Daemon d = running.get();
            if (d != null) {
                new Thread(d::close, "nightshift-shutdown").start();
            }
        };
        Signal.handle(new Signal("TERM"), drain);
        Signal.handle(new Signal("INT"), drain);
        Daemon daemon = Daemon.start(settings);
        running.set(daemon);
        if (stopRequested.get()) {
            new Thread(daemon::close, "nightshift-shutdown").start();
        }
        daemon.awaitStopped();
        return Main.OK;
    }
}

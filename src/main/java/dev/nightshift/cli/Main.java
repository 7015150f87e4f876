package dev.nightshift.cli;

import dev.nightshift.config.ConfigException;
import java.io.PrintWriter;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code nightshift} command line. Exit codes: 0 success, 1 failure, 2 usage or validation
 * error. {@link #run} is the whole program minus {@code System.exit}, for tests.
 */
@Command(name = "nightshift",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = "Scheduled-job worker for business batch processing on PostgreSQL.",
        subcommands = {
                RunCommand.class,
                MigrateCommand.class,
                ValidateCommand.class,
                SyncCommand.class,
                TriggerCommand.class,
                BackfillCommand.class,
                BackfillsCommand.class,
                RunsCommand.class,
                RejectsCommand.class,
                ShowCommand.class,
                CancelCommand.class,
                RetryCommand.class,
                JobsCommand.class,
                PauseCommand.class,
                ResumeCommand.class,
                BenchCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int USAGE = 2;

    final Map<String, String> env;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    Main(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        int code = run(args, System.getenv(), new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        System.exit(code);
    }

    public static int run(String[] args, Map<String, String> env, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main(env));
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, line, parsed) -> {
            if (e instanceof ConfigException ce) {
                ce.problems().forEach(p -> line.getErr().println("error: " + p));
                return USAGE;
            }
            if (e instanceof UsageException) {
                line.getErr().println("error: " + e.getMessage());
                return USAGE;
            }
            line.getErr().println("error: " + describe(e));
            return FAILED;
        });
        // Short commands quiet the logs; in a JVM that goes on (tests) the level comes back afterwards.
        var root = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        var level = root.getLevel();
        try {
            return cl.execute(args);
        } finally {
            root.setLevel(level);
            out.flush();
            err.flush();
        }
    }

    /** A one-line account of an unexpected failure, with its SQLSTATE when it has one. */
    static String describe(Throwable e) {
        String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (e instanceof java.sql.SQLException s && s.getSQLState() != null) {
            msg += " (SQLSTATE " + s.getSQLState() + ")";
        }
        return msg;
    }
}

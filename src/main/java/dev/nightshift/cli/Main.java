package dev.nightshift.cli;

import dev.nightshift.config.ConfigException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code nightshift} command line. Exit codes: 0 success, 1 failure, 2 usage or validation
 * error. {@link #run} is the whole program minus {@code System.exit}, for tests.
 *
 * <p>Subcommands are registered by name and loaded only when used: picocli reads every field of
 * every registered command class, and the daemon's and benchmarks' classes would otherwise load
 * (metrics registry, Quartz, ...) for a {@code --version} or a {@code runs}.
 */
@Command(name = "nightshift",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = "Scheduled-job worker for business batch processing on PostgreSQL.")
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

    /** The environment the command line was started with (settings read it). */
    public Map<String, String> env() {
        return env;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        int code = run(args, System.getenv(), new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        System.exit(code);
    }

    /**
     * The subcommands in the order of the usage message: name and class name (not the class, so
     * that nothing loads), simple for this package's commands, qualified for the others.
     */
    static final Map<String, String> SUBCOMMANDS = subcommands(
            "run", "RunCommand", "migrate", "MigrateCommand", "validate", "ValidateCommand", "sync", "SyncCommand",
            "trigger", "TriggerCommand", "backfill", "BackfillCommand", "backfills", "BackfillsCommand",
            "runs", "RunsCommand", "rejects", "RejectsCommand", "show", "ShowCommand", "logs", "LogsCommand",
            "cancel", "CancelCommand",
            "retry", "RetryCommand", "jobs", "JobsCommand", "pause", "PauseCommand", "resume", "ResumeCommand",
            "notify", "NotifyCommand", "audit", "AuditCommand", "bench", "dev.nightshift.bench.BenchCommand");

    private static Map<String, String> subcommands(String... nameThenClass) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < nameThenClass.length; i += 2) {
            String cls = nameThenClass[i + 1];
            m.put(nameThenClass[i], cls.contains(".") ? cls : Main.class.getPackageName() + "." + cls);
        }
        return m;
    }

    /**
     * The subcommands {@code args} can reach: the one named first, none for a bare version
     * request, else all of them (help, usage, and picocli's suggestions for a mistyped name).
     */
    static List<String> reachable(String[] args) {
        if (args.length > 0 && SUBCOMMANDS.containsKey(args[0])) {
            return List.of(args[0]);
        }
        if (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"))) {
            return List.of();
        }
        List<String> all = new ArrayList<>(SUBCOMMANDS.keySet());
        all.add("help");
        return all;
    }

    public static int run(String[] args, Map<String, String> env, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main(env));
        for (String name : reachable(args)) {
            cl.addSubcommand(name, name.equals("help") ? CommandLine.HelpCommand.class : commandClass(SUBCOMMANDS.get(name)));
        }
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
        try {
            return cl.execute(args);
        } finally {
            BaseCommand.restoreLogs();
            out.flush();
            err.flush();
        }
    }

    private static Class<?> commandClass(String className) {
        try {
            return Class.forName(className);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("subcommand class missing from the build: " + className, e);
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

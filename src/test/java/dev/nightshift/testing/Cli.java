package dev.nightshift.testing;

import dev.nightshift.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;

/** Runs the nightshift command line in this JVM and captures what it printed. */
public final class Cli {
    private Cli() {
    }

    public record Result(int exitCode, String out, String err) {
    }

    public static Result run(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, env, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }
}

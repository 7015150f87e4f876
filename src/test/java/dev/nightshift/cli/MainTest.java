package dev.nightshift.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.core.ConsoleAppender;
import dev.nightshift.testing.Cli;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.Command;

/** The command line's own wiring: subcommands registered by name, loaded when used; the default logging. */
class MainTest {
    @Test
    void every_registered_name_is_the_name_of_its_command_class() throws Exception {
        assertThat(Main.SUBCOMMANDS).hasSize(19);
        for (Map.Entry<String, String> e : Main.SUBCOMMANDS.entrySet()) {
            Command c = Class.forName(e.getValue()).getAnnotation(Command.class);
            assertThat(c).as(e.getValue()).isNotNull();
            assertThat(c.name()).isEqualTo(e.getKey());
        }
    }

    @Test
    void a_named_command_loads_alone_a_version_request_loads_none_and_anything_else_loads_all() {
        assertThat(Main.reachable(new String[] {"runs", "--limit", "8"})).containsExactly("runs");
        assertThat(Main.reachable(new String[] {"--version"})).isEmpty();
        assertThat(Main.reachable(new String[] {"-V"})).isEmpty();
        assertThat(Main.reachable(new String[] {})).hasSize(20).endsWith("help");
        assertThat(Main.reachable(new String[] {"help", "runs"})).hasSize(20);
        assertThat(Main.reachable(new String[] {"rnus"})).hasSize(20);
    }

    @Test
    void usage_still_lists_every_command_and_a_typo_still_gets_a_usage_error() {
        Cli.Result usage = Cli.run(Map.of(), "--help");
        assertThat(usage.exitCode()).isEqualTo(Main.OK);
        assertThat(usage.out()).contains("run", "migrate", "validate", "trigger", "backfills", "rejects", "resume", "bench", "help");
        Cli.Result typo = Cli.run(Map.of(), "rnus");
        assertThat(typo.exitCode()).isEqualTo(Main.USAGE);
        assertThat(typo.err()).contains("Unmatched argument", "rnus");
        Cli.Result version = Cli.run(Map.of(), "--version");
        assertThat(version.exitCode()).isEqualTo(Main.OK);
        assertThat(version.out()).startsWith("nightshift ");
    }

    @Test
    void default_logging_is_text_on_standard_error_with_the_libraries_at_warn() {
        LoggerContext context = new LoggerContext();
        LogDefaults.apply(context);
        ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        assertThat(root.getLevel()).isEqualTo(Level.INFO);
        assertThat(root.getAppender("STDERR")).isInstanceOfSatisfying(ConsoleAppender.class,
                a -> assertThat(a.getTarget()).isEqualTo("System.err"));
        for (String quiet : new String[] {"org.flywaydb", "com.zaxxer.hikari", "org.quartz", "io.zonky"}) {
            assertThat(context.getLogger(quiet).getLevel()).isEqualTo(Level.WARN);
        }
        context.stop();
    }
}

package dev.nightshift.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettingsTest {
    @Test
    void defaults_apply_without_any_input() {
        Settings s = SettingsLoader.load(Map.of(), null, Map.of());
        assertThat(s.embedded()).isTrue();
        assertThat(s.workers()).isEqualTo(4);
        assertThat(s.httpPort()).isEqualTo(9464);
        assertThat(s.httpBind()).isEqualTo("127.0.0.1");
        assertThat(s.jobsDir()).isEqualTo(Path.of("./jobs"));
        assertThat(s.home()).isEqualTo(Path.of("./.nightshift"));
        assertThat(s.nodeName()).endsWith("-" + ProcessHandle.current().pid());
        assertThat(s.shutdownGrace()).isEqualTo(Duration.ofSeconds(30));
        assertThat(s.retention()).isEqualTo(Duration.ofDays(7));
        assertThat(s.schedulerThreads()).isEqualTo(8);
        assertThat(s.misfireThreshold()).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void flags_override_the_config_file_which_overrides_the_environment(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, "workers: 8\nhttp_port: 9000\n");
        Settings s = SettingsLoader.load(
                Map.of("NIGHTSHIFT_WORKERS", "2", "NIGHTSHIFT_HTTP_PORT", "1", "NIGHTSHIFT_NODE_NAME", "env-node"),
                file, Map.of(Setting.HTTP_PORT, "9100"));
        assertThat(s.workers()).isEqualTo(8);
        assertThat(s.httpPort()).isEqualTo(9100);
        assertThat(s.nodeName()).isEqualTo("env-node");
    }

    @Test
    void secrets_are_masked_in_the_logged_configuration() {
        Settings s = SettingsLoader.load(Map.of(
                "NIGHTSHIFT_DB_URL", "jdbc:postgresql://db:5432/app?user=u&password=hunter2",
                "NIGHTSHIFT_DB_PASSWORD", "s3cret",
                "NIGHTSHIFT_ADMIN_TOKEN", "0123456789abcdef0123"), null, Map.of());
        String shown = s.describe().toString();
        assertThat(shown).doesNotContain("hunter2", "s3cret", "0123456789abcdef0123");
        assertThat(shown).contains("password=****", "db_password=****", "admin_token=****");
    }

    @Test
    void invalid_values_are_all_reported() {
        assertThatThrownBy(() -> SettingsLoader.load(Map.of(
                "NIGHTSHIFT_DB_URL", "postgres://db/app",
                "NIGHTSHIFT_WORKERS", "0",
                "NIGHTSHIFT_ADMIN_TOKEN", "short",
                "NIGHTSHIFT_NODE_NAME", "bad name",
                "NIGHTSHIFT_SCHEDULER_THREADS", "0",
                "NIGHTSHIFT_MISFIRE_THRESHOLD", "500ms"), null, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("db_url must be a PostgreSQL JDBC URL")
                .hasMessageContaining("workers must be between 1 and 256, got 0")
                .hasMessageContaining("admin_token must be at least 16 characters long")
                .hasMessageContaining("node_name must be 1-63 characters")
                .hasMessageContaining("scheduler_threads must be between 1 and 100, got 0")
                .hasMessageContaining("misfire_threshold must be at least 1s, got PT0.5S");
    }

    @Test
    void durations_read_and_print_the_short_notation() {
        assertThat(Durations.parse("1h30m")).isEqualTo(Duration.ofMinutes(90));
        assertThat(Durations.parse("250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(Durations.format(Duration.ofSeconds(3725))).isEqualTo("1h2m5s");
        assertThatThrownBy(() -> Durations.parse("5 minutes")).hasMessageContaining("not a duration");
    }
}

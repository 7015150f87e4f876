package dev.nightshift.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How each source of settings is read, and where each problem is said to come from. */
class SettingsParsingTest {
    @Test
    void every_setting_is_spelled_three_ways_from_one_name() {
        assertThat(Setting.DB_URL.key()).isEqualTo("db_url");
        assertThat(Setting.DB_URL.envName()).isEqualTo("NIGHTSHIFT_DB_URL");
        assertThat(Setting.DB_URL.flag()).isEqualTo("--db-url");
        assertThat(Setting.byKey("misfire_threshold")).contains(Setting.MISFIRE_THRESHOLD);
        assertThat(Setting.byKey("MISFIRE_THRESHOLD")).isEmpty();
    }

    @Test
    void an_unknown_variable_is_an_error_but_test_and_jvm_option_variables_are_not() {
        assertThatThrownBy(() -> SettingsLoader.load(Map.of("NIGHTSHIFT_WORKER", "2"), null, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("unknown environment variable NIGHTSHIFT_WORKER (known: NIGHTSHIFT_DB_URL, ");
        Settings s = SettingsLoader.load(Map.of("NIGHTSHIFT_TEST_DB_URL", "x", "NIGHTSHIFT_OPTS", "-Xmx1g", "PATH", "/bin"), null, Map.of());
        assertThat(s.workers()).isEqualTo(4);
    }

    @Test
    void an_empty_variable_counts_as_unset() {
        assertThat(SettingsLoader.load(Map.of("NIGHTSHIFT_WORKERS", ""), null, Map.of()).workers()).isEqualTo(4);
    }

    @Test
    void a_config_file_accepts_dashes_and_reports_each_bad_line_with_its_number(@TempDir Path dir) throws Exception {
        Path ok = dir.resolve("ok.yaml");
        Files.writeString(ok, "poll-interval: 250ms\nretention: 1d12h\nlog_format: JSON\n");
        Settings s = SettingsLoader.load(Map.of(), ok, Map.of());
        assertThat(s.pollInterval()).isEqualTo(Duration.ofMillis(250));
        assertThat(s.retention()).isEqualTo(Duration.ofHours(36));
        assertThat(s.logFormat()).isEqualTo(Settings.LogFormat.JSON);

        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "workers: many\ncolour: blue\nhttp_port: [1, 2]\nretention: 7 days\nlog_format: xml\n");
        assertThatThrownBy(() -> SettingsLoader.load(Map.of(), bad, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(bad + ":1: workers must be a whole number, got 'many'")
                .hasMessageContaining(bad + ":2: unknown key 'colour'")
                .hasMessageContaining(bad + ":3: http_port must be a single value")
                .hasMessageContaining(bad + ":4: retention: not a duration: '7 days'")
                .hasMessageContaining(bad + ":5: log_format must be text or json, got 'xml'");
    }

    @Test
    void a_missing_config_file_or_one_that_is_not_a_mapping_is_reported(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("none.yaml");
        assertThatThrownBy(() -> SettingsLoader.load(Map.of(), missing, Map.of()))
                .hasMessageContaining(missing + ": config file not found");
        Path list = dir.resolve("list.yaml");
        Files.writeString(list, "- workers\n");
        assertThatThrownBy(() -> SettingsLoader.load(Map.of(), list, Map.of()))
                .hasMessageContaining(list + ":1: a config file is a mapping of key: value, not ");
    }

    @Test
    void a_flag_names_itself_as_the_source_of_its_problem() {
        assertThatThrownBy(() -> SettingsLoader.load(Map.of(), null, Map.of(Setting.SHUTDOWN_GRACE, "forever")))
                .hasMessageContaining("--shutdown-grace: shutdown_grace: not a duration: 'forever'");
        assertThatThrownBy(() -> SettingsLoader.load(Map.of("NIGHTSHIFT_WORKERS", "x"), null, Map.of()))
                .hasMessageContaining("environment variable NIGHTSHIFT_WORKERS: workers must be a whole number, got 'x'");
    }

    @Test
    void durations_sum_their_parts_and_refuse_overflow() {
        assertThat(Durations.parse("1d2h3m4s5ms")).isEqualTo(Duration.ofDays(1).plusHours(2).plusMinutes(3).plusSeconds(4).plusMillis(5));
        assertThat(Durations.parse(" 30s ")).isEqualTo(Duration.ofSeconds(30));
        assertThat(Durations.format(Durations.parse("90m"))).isEqualTo("1h30m");
        assertThat(Durations.format(Duration.ZERO)).isEqualTo("0s");
        assertThatThrownBy(() -> Durations.parse("")).hasMessageContaining("empty duration");
        assertThatThrownBy(() -> Durations.parse("99999999999999999999d")).hasMessageContaining("duration out of range");
        assertThatThrownBy(() -> Durations.parse("9999999999999d")).hasMessageContaining("duration out of range");
        assertThatThrownBy(() -> Durations.parse("5")).hasMessageContaining("not a duration: '5'");
    }
}

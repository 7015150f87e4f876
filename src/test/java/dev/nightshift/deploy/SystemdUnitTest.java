package dev.nightshift.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nightshift.config.Durations;
import dev.nightshift.config.Setting;
import dev.nightshift.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("process")
class SystemdUnitTest {
    static final Path DIR = Manifests.DEPLOY.resolve("systemd");
    static final Path UNIT = DIR.resolve("nightshift.service");

    /** The unit's key=value lines (the last one of a repeated key). */
    static Map<String, String> directives() throws Exception {
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : Files.readAllLines(UNIT)) {
            int eq = line.indexOf('=');
            if (!line.startsWith("#") && eq > 0) {
                m.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return m;
    }

    @Test
    void systemd_analyze_verify_reports_nothing() {
        Path analyze = Tools.required("systemd-analyze", "apt-get install systemd, or .ci/ops-setup");
        Tools.Result r = Tools.run(List.of(analyze.toString(), "verify", UNIT.toAbsolutePath().toString()), null, null);
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).as("any warning fails").isBlank();
    }

    @Test
    void unit_runs_as_a_system_user_with_the_environment_file_and_hardening() throws Exception {
        Map<String, String> d = directives();
        assertThat(d).containsEntry("Type", "exec").containsEntry("SuccessExitStatus", "143")
                .containsEntry("NoNewPrivileges", "yes").containsEntry("ProtectSystem", "strict")
                .containsEntry("PrivateTmp", "yes").containsEntry("CapabilityBoundingSet", "");
        assertThat(d.get("User")).isNotBlank().isNotEqualTo("root");
        assertThat(d.get("EnvironmentFile")).startsWith("/etc/nightshift/");
        assertThat(Files.readString(DIR.resolve("nightshift.sysusers"))).contains("u " + d.get("User") + " ");
    }

    @Test
    void stop_timeout_outlasts_the_drain() throws Exception {
        Map<String, String> env = exampleEnv();
        long grace = Durations.parse(env.getOrDefault("NIGHTSHIFT_SHUTDOWN_GRACE", Setting.SHUTDOWN_GRACE.defaultValue())).toSeconds();
        long stop = Durations.parse(directives().get("TimeoutStopSec")).toSeconds();
        assertThat(stop).isGreaterThan(grace + 15);
    }

    @Test
    void example_env_file_sets_only_known_settings() throws Exception {
        for (String name : exampleEnv().keySet()) {
            if (name.startsWith("NIGHTSHIFT_")) {
                assertThat(Setting.byKey(name.substring("NIGHTSHIFT_".length()).toLowerCase(java.util.Locale.ROOT))).as(name).isPresent();
            } else {
                assertThat(name).isEqualTo("JAVA_OPTS");
            }
        }
        assertThat(exampleEnv().get("NIGHTSHIFT_ADMIN_TOKEN")).hasSizeGreaterThanOrEqualTo(16);
    }

    static Map<String, String> exampleEnv() throws Exception {
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : Files.readAllLines(DIR.resolve("nightshift.env.example"))) {
            int eq = line.indexOf('=');
            if (!line.startsWith("#") && eq > 0) {
                m.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return m;
    }
}

package dev.nightshift.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nightshift.testing.Tools;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("process")
class PrometheusRulesTest {
    static final Path DIR = Manifests.DEPLOY.resolve("prometheus");

    static Path promtool() {
        return Tools.required("promtool", "run .ci/ops-setup");
    }

    static void promtool(String... args) {
        List<String> cmd = new java.util.ArrayList<>(List.of(promtool().toString()));
        cmd.addAll(List.of(args));
        Tools.Result r = Tools.run(cmd, DIR.toFile().getAbsoluteFile().toPath(), null);
        assertThat(r.exitCode()).as(r.output()).isZero();
    }

    @Test
    void promtool_accepts_the_alert_rules() {
        promtool("check", "rules", "alerts.yml");
    }

    @Test
    void every_alert_passes_its_promtool_unit_tests() {
        promtool("test", "rules", "alerts.test.yml");
    }

    @Test
    void promtool_accepts_the_scrape_config() {
        promtool("check", "config", "prometheus.yml");
    }

    @Test
    void every_alert_has_a_unit_test_that_expects_it_to_fire() {
        Set<String> alerts = new TreeSet<>();
        Manifests.one(DIR.resolve("alerts.yml")).path("groups").forEach(g -> g.path("rules").forEach(r -> alerts.add(r.path("alert").asText())));
        Set<String> firing = new TreeSet<>();
        for (JsonNode t : Manifests.one(DIR.resolve("alerts.test.yml")).path("tests")) {
            t.path("alert_rule_test").forEach(a -> {
                if (!a.path("exp_alerts").isEmpty()) {
                    firing.add(a.path("alertname").asText());
                }
            });
        }
        assertThat(alerts).containsExactlyInAnyOrder("NightshiftJobFailed", "NightshiftRunsDead", "NightshiftJobLate", "NightshiftSlotPastDeadline",
                "NightshiftQueueLagHigh", "NightshiftRunsRescued", "NightshiftNoWorkerUp", "NightshiftPoolStarved", "NightshiftHeapHigh");
        assertThat(firing).isEqualTo(alerts);
    }

    @Test
    void kubernetes_scrape_config_keeps_nightshift_pods_under_job_nightshift() {
        JsonNode job = Manifests.one(DIR.resolve("scrape-kubernetes.yml")).at("/scrape_configs/0");
        assertThat(job.at("/kubernetes_sd_configs/0/role").asText()).isEqualTo("pod");
        assertThat(job.path("relabel_configs").toString()).contains("nightshift;true").contains("\"replacement\":\"nightshift\"");
    }
}

package dev.nightshift.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nightshift.config.Durations;
import dev.nightshift.config.JobCatalog;
import dev.nightshift.config.Setting;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KubernetesManifestsTest {
    static final List<JsonNode> DOCS = Manifests.documents(Manifests.DEPLOY.resolve("kubernetes"));

    static JsonNode kind(String kind) {
        return DOCS.stream().filter(d -> d.path("kind").asText().equals(kind)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " in deploy/kubernetes"));
    }

    static JsonNode container() {
        return kind("Deployment").at("/spec/template/spec/containers/0");
    }

    static JsonNode env(String name) {
        for (JsonNode e : container().path("env")) {
            if (e.path("name").asText().equals(name)) {
                return e;
            }
        }
        throw new AssertionError("no env " + name);
    }

    @Test
    void every_manifest_has_api_version_kind_and_name() {
        assertThat(DOCS).hasSizeGreaterThanOrEqualTo(5).allSatisfy(d -> {
            assertThat(d.path("apiVersion").asText()).isNotBlank();
            assertThat(d.path("kind").asText()).isNotBlank();
            assertThat(d.at("/metadata/name").asText()).isNotBlank();
        });
    }

    @Test
    void deployment_rolls_two_replicas_without_losing_capacity() {
        JsonNode spec = kind("Deployment").path("spec");
        assertThat(spec.path("replicas").asInt()).isEqualTo(2);
        assertThat(spec.at("/strategy/type").asText()).isEqualTo("RollingUpdate");
        assertThat(spec.at("/strategy/rollingUpdate/maxUnavailable").asInt()).isZero();
        assertThat(spec.at("/selector/matchLabels")).isEqualTo(spec.at("/template/metadata/labels"));
    }

    @Test
    void termination_grace_outlasts_the_drain() {
        long grace = Durations.parse(env("NIGHTSHIFT_SHUTDOWN_GRACE").path("value").asText()).toSeconds();
        // the drain: the grace period, then up to 15 s for aborted runs to roll back
        assertThat(kind("Deployment").at("/spec/template/spec/terminationGracePeriodSeconds").asLong()).isGreaterThan(grace + 15);
    }

    @Test
    void probes_use_livez_for_startup_and_liveness_and_readyz_for_readiness() {
        assertThat(container().at("/startupProbe/httpGet/path").asText()).isEqualTo("/livez");
        assertThat(container().at("/livenessProbe/httpGet/path").asText()).isEqualTo("/livez");
        assertThat(container().at("/readinessProbe/httpGet/path").asText()).isEqualTo("/readyz");
        assertThat(container().at("/ports/0/containerPort").asInt()).isEqualTo(Integer.parseInt(env("NIGHTSHIFT_HTTP_PORT").path("value").asText()));
        assertThat(env("NIGHTSHIFT_HTTP_BIND").path("value").asText()).isEqualTo("0.0.0.0");
    }

    @Test
    void container_runs_non_root_on_a_read_only_root_without_capabilities() {
        JsonNode pod = kind("Deployment").at("/spec/template/spec/securityContext");
        assertThat(pod.path("runAsNonRoot").asBoolean()).isTrue();
        assertThat(pod.path("runAsUser").asInt()).isPositive();
        JsonNode c = container().path("securityContext");
        assertThat(c.path("readOnlyRootFilesystem").asBoolean()).isTrue();
        assertThat(c.path("allowPrivilegeEscalation").asBoolean()).isFalse();
        assertThat(c.at("/capabilities/drop").toString()).contains("\"ALL\"");
    }

    @Test
    void resources_requests_equal_limits_and_the_heap_follows_the_limit() {
        JsonNode r = container().path("resources");
        assertThat(r.path("requests")).isEqualTo(r.path("limits"));
        assertThat(r.at("/limits/memory").asText()).isNotBlank();
        assertThat(r.at("/limits/cpu").asText()).isNotBlank();
        assertThat(container().path("command").toString()).contains("-XX:MaxRAMPercentage=");
    }

    @Test
    void secrets_come_from_a_secret_and_every_env_name_is_a_known_setting() {
        assertThat(env("NIGHTSHIFT_DB_PASSWORD").at("/valueFrom/secretKeyRef/name").asText()).isEqualTo("nightshift");
        assertThat(env("NIGHTSHIFT_ADMIN_TOKEN").at("/valueFrom/secretKeyRef/name").asText()).isEqualTo("nightshift");
        List<String> known = new ArrayList<>();
        for (Setting s : Setting.values()) {
            known.add(s.envName());
        }
        for (JsonNode e : container().path("env")) {
            assertThat(known).contains(e.path("name").asText());
            if (e.path("name").asText().matches(".*(PASSWORD|TOKEN)")) {
                assertThat(e.has("value")).as("%s: no literal secret", e.path("name").asText()).isFalse();
            }
        }
    }

    @Test
    void the_job_catalog_config_map_is_mounted_as_the_jobs_dir_and_is_a_valid_catalog() throws Exception {
        JsonNode cm = kind("ConfigMap");
        String mount = null;
        for (JsonNode m : container().path("volumeMounts")) {
            for (JsonNode v : kind("Deployment").at("/spec/template/spec/volumes")) {
                if (v.path("name").equals(m.path("name")) && v.at("/configMap/name").equals(cm.at("/metadata/name"))) {
                    mount = m.path("mountPath").asText();
                }
            }
        }
        assertThat(mount).isEqualTo(env("NIGHTSHIFT_JOBS_DIR").path("value").asText());
        Path dir = Files.createTempDirectory("configmap-jobs");
        cm.path("data").properties().forEach(e -> {
            try {
                Files.writeString(dir.resolve(e.getKey()), e.getValue().asText());
            } catch (java.io.IOException ex) {
                throw new java.io.UncheckedIOException(ex);
            }
        });
        assertThat(JobCatalog.load(dir).size()).isEqualTo(cm.path("data").size());
    }

    @Test
    void a_disruption_budget_and_a_pod_monitor_select_the_pods() {
        JsonNode labels = kind("Deployment").at("/spec/template/metadata/labels");
        JsonNode pdb = kind("PodDisruptionBudget");
        assertThat(pdb.at("/spec/selector/matchLabels")).isEqualTo(labels);
        assertThat(pdb.at("/spec/minAvailable").asInt()).isEqualTo(1);
        JsonNode pm = kind("PodMonitor");
        assertThat(pm.at("/spec/selector/matchLabels")).isEqualTo(labels);
        assertThat(pm.at("/spec/podMetricsEndpoints/0/path").asText()).isEqualTo("/metrics");
        assertThat(pm.at("/spec/podMetricsEndpoints/0/port").asText()).isEqualTo(container().at("/ports/0/name").asText());
        JsonNode annotations = kind("Deployment").at("/spec/template/metadata/annotations");
        assertThat(Map.of("scrape", annotations.path("prometheus.io/scrape").asText(), "path", annotations.path("prometheus.io/path").asText()))
                .containsEntry("scrape", "true").containsEntry("path", "/metrics");
    }
}

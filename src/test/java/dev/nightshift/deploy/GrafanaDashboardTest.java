package dev.nightshift.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nightshift.json.Json;
import dev.nightshift.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("process")
class GrafanaDashboardTest {
    static final Path FILE = Manifests.DEPLOY.resolve("grafana/nightshift.json");

    static JsonNode dashboard() throws Exception {
        return Json.MAPPER.readTree(Files.readString(FILE));
    }

    static List<JsonNode> targets() throws Exception {
        List<JsonNode> out = new ArrayList<>();
        dashboard().path("panels").forEach(p -> p.path("targets").forEach(out::add));
        return out;
    }

    static JsonNode variable(String name) throws Exception {
        for (JsonNode v : dashboard().at("/templating/list")) {
            if (v.path("name").asText().equals(name)) {
                return v;
            }
        }
        throw new AssertionError("no variable " + name);
    }

    @Test
    void data_source_is_a_variable_used_by_every_panel_and_query() throws Exception {
        assertThat(variable("datasource").path("type").asText()).isEqualTo("datasource");
        assertThat(variable("datasource").path("query").asText()).isEqualTo("prometheus");
        dashboard().path("panels").forEach(p -> assertThat(p.at("/datasource/uid").asText()).isEqualTo("${datasource}"));
        assertThat(targets()).allSatisfy(t -> assertThat(t.at("/datasource/uid").asText()).isEqualTo("${datasource}"));
    }

    @Test
    void job_name_variable_comes_from_label_values() throws Exception {
        assertThat(variable("job_name").at("/query/query").asText()).isEqualTo("label_values(nightshift_job_runs_total, job_name)");
        assertThat(variable("job_name").path("includeAll").asBoolean()).isTrue();
    }

    @Test
    void every_range_is_the_rate_interval_and_panels_cover_the_issue_list() throws Exception {
        Pattern range = Pattern.compile("\\[([^\\]]+)\\]");
        for (JsonNode t : targets()) {
            Matcher m = range.matcher(t.path("expr").asText());
            while (m.find()) {
                assertThat(m.group(1)).as(t.path("expr").asText()).isEqualTo("$__rate_interval");
            }
        }
        String all = targets().toString();
        assertThat(all).contains("nightshift_job_runs_total", "histogram_quantile", "nightshift_queue_runs",
                "nightshift_queue_oldest_available_age_seconds", "nightshift_import_rows_total", "hikaricp_connections_active");
    }

    @Test
    void promtool_accepts_every_query() throws Exception {
        Path promtool = PrometheusRulesTest.promtool();
        StringBuilder rules = new StringBuilder("groups:\n  - name: grafana-queries\n    rules:\n");
        int i = 0;
        for (JsonNode t : targets()) {
            String expr = t.path("expr").asText().replace("$__rate_interval", "1m").replace("$job_name", ".+");
            rules.append("      - record: grafana:query:").append(i++).append("\n        expr: ").append(Json.write(expr)).append('\n');
        }
        Path file = Files.createTempFile("grafana-queries", ".yml");
        Files.writeString(file, rules);
        Tools.Result r = Tools.run(List.of(promtool.toString(), "check", "rules", file.toString()), null, null);
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("SUCCESS: " + i + " rules found");
    }
}

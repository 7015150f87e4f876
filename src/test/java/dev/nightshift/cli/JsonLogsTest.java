package dev.nightshift.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nightshift.json.Json;
import dev.nightshift.queue.NewRun;
import dev.nightshift.queue.RunQueue;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@Tag("database")
class JsonLogsTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @RegisterExtension
    final JsonLogCapture log = new JsonLogCapture();

    @Test
    void json_format_writes_one_object_per_line_with_job_and_run_on_every_line_of_a_run() throws Exception {
        JobsDir jobs = new JobsDir(db.tempDir(), "logs").sql("ok", "SELECT 1", null).sql("broken", "SELECT 1 / 0", "max_attempts: 1\n");
        log.start("json-node");
        long ok;
        long broken;
        try (Daemon d = Daemon.start(db.settings(jobs.path()))) {
            assertThat(d.httpPort()).isPositive();
            RunQueue q = new RunQueue(db.dataSource());
            ok = q.enqueue(NewRun.manual("ok", Map.of(), null)).id();
            broken = q.enqueue(NewRun.manual("broken", Map.of(), null)).id();
            await().atMost(Duration.ofSeconds(20)).until(() ->
                    db.queryLong("SELECT count(*) FROM nightshift.run WHERE state IN ('succeeded', 'dead')") == 2);
        }
        List<JsonNode> lines = new ArrayList<>();
        for (String line : log.text().split("\n")) {
            lines.add(Json.MAPPER.readTree(line));
        }
        assertThat(lines).isNotEmpty().allSatisfy(l -> {
            assertThat(l.isObject()).isTrue();
            assertThat(l.path("@timestamp").asText()).isNotBlank();
            assertThat(l.path("level").asText()).isNotBlank();
            assertThat(l.path("node").asText()).isEqualTo("json-node");
            assertThat(l.has("@version")).isFalse();
        });
        List<JsonNode> okLines = lines.stream().filter(l -> l.path("run").asText().equals(Long.toString(ok))).toList();
        assertThat(okLines).extracting(l -> l.path("job").asText()).containsOnly("ok");
        assertThat(okLines).extracting(l -> l.path("message").asText())
                .anyMatch(m -> m.contains("started"))
                .anyMatch(m -> m.contains("succeeded in"));
        List<JsonNode> brokenLines = lines.stream().filter(l -> l.path("run").asText().equals(Long.toString(broken))).toList();
        assertThat(brokenLines).anySatisfy(l -> {
            assertThat(l.path("level").asText()).isEqualTo("ERROR");
            assertThat(l.path("job").asText()).isEqualTo("broken");
            assertThat(l.path("message").asText()).contains("division by zero");
        });
        assertThat(lines).noneMatch(l -> l.has("run") && l.path("job").isMissingNode());
    }
}

package dev.nightshift.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nightshift.testing.JobsDir;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The params of data-aware jobs, as validate reads them: every problem with file and line, at once. */
class DataAwareParamsTest {
    @TempDir
    Path tmp;

    private static final String IMPORT = "type: batch-import\nparams:\n  source: data\n  target: s.t\n  key: [id]\n";

    @Test
    void arrival_and_allowed_sources_are_read_with_their_defaults() {
        JobsDir jobs = new JobsDir(tmp, "ok").file("a.yaml", "name: a\n" + IMPORT
                + "  on_arrival: true\n  arrival_marker: .done\n  allowed_sources: [archive, /srv/old]\n")
                .file("b.yaml", "name: b\n" + IMPORT + "  on_arrival: true\n");
        JobCatalog c = JobCatalog.load(jobs.path());
        ImportParams a = (ImportParams) c.find("a").orElseThrow().params();
        assertThat(a.arrival()).isEqualTo(new ImportParams.Arrival(Duration.ofSeconds(2), Duration.ofSeconds(5), ".done"));
        assertThat(a.allowedSources()).containsExactly(jobs.path().toAbsolutePath().resolve("archive").normalize(), Path.of("/srv/old"));
        assertThat(((ImportParams) c.find("b").orElseThrow().params()).arrival().marker()).isNull();
    }

    @Test
    void misplaced_data_aware_params_are_each_reported() {
        JobsDir jobs = new JobsDir(tmp, "bad")
                .file("a.yaml", "name: a\n" + IMPORT + "  arrival_settle: 10s\n  format: {header: false}\n"
                        + "  columns: {A: id, B: id}\n")
                .file("b.yaml", "name: b\n" + IMPORT + "  on_arrival: true\n  arrival_marker: x/y\n")
                .file("c.yaml", "name: c\ntype: refresh-materialized-view\nparams:\n  view: s.v\n  source_tables: [s.t]\n")
                .file("d.yaml", "name: d\ntype: refresh-materialized-view\nparams:\n  view: s.v\n  skip_if_unchanged: true\n"
                        + "  source_tables: [not qualified]\n");
        assertThatThrownBy(() -> JobCatalog.load(jobs.path())).isInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(((ConfigException) e).problems())
                        .anySatisfy(p -> assertThat(p).contains("a.yaml", "params.arrival_settle", "only applies with on_arrival: true"))
                        .anySatisfy(p -> assertThat(p).contains("a.yaml", "params.columns", "maps a column twice"))
                        .anySatisfy(p -> assertThat(p).contains("b.yaml", "params.on_arrival", "marker must be a file name suffix"))
                        .anySatisfy(p -> assertThat(p).contains("c.yaml", "params.source_tables", "only applies with skip_if_unchanged"))
                        .anySatisfy(p -> assertThat(p).contains("d.yaml", "params.source_tables", "must be schema-qualified")));
    }
}

package dev.nightshift.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nightshift.testing.JobsDir;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A job's concurrency as validate reads it: a number from 1 to 1000 (default 1), or unlimited. */
class ConcurrencyDefinitionTest {
    @TempDir
    Path tmp;

    private static final String SQL = "type: sql\nparams:\n  sql: select 1\n";

    @Test
    void concurrency_is_a_number_or_unlimited() {
        JobsDir jobs = new JobsDir(tmp, "ok").file("a.yaml", "name: a\n" + SQL)
                .file("b.yaml", "name: b\nconcurrency: 4\n" + SQL)
                .file("c.yaml", "name: c\nconcurrency: unlimited\n" + SQL);
        JobCatalog catalog = JobCatalog.load(jobs.path());
        assertThat(catalog.find("a").orElseThrow().concurrency()).isEqualTo(1);
        assertThat(catalog.find("b").orElseThrow().concurrency()).isEqualTo(4);
        assertThat(catalog.find("c").orElseThrow().concurrency()).isEqualTo(JobDefinition.UNLIMITED);
    }

    @Test
    void zero_is_not_a_way_to_say_unlimited() {
        JobsDir jobs = new JobsDir(tmp, "bad").file("a.yaml", "name: a\nconcurrency: 0\n" + SQL);
        assertThatThrownBy(() -> JobCatalog.load(jobs.path())).isInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(((ConfigException) e).problems())
                        .anySatisfy(p -> assertThat(p).contains("a.yaml", "concurrency must be between 1 and 1000")));
    }
}

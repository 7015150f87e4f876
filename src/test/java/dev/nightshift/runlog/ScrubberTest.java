package dev.nightshift.runlog;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a run's log line loses before it is stored: secrets, and nothing else. */
class ScrubberTest {
    private final Scrubber scrubber = new Scrubber(Arrays.asList("s3cret-db-pw", null, "abc"));

    @Test
    void secret_looking_pairs_connection_strings_and_user_info_are_masked() {
        assertThat(scrubber.scrub("params {region=emea, password=hunter2}")).isEqualTo("params {region=emea, password=****}");
        assertThat(scrubber.scrub("host=db user=etl password='p w' dbname=app")).isEqualTo("host=db user=etl password=**** dbname=app");
        assertThat(scrubber.scrub("jdbc:postgresql://db/app?user=etl&password=x1&ssl=true"))
                .isEqualTo("jdbc:postgresql://db/app?user=etl&password=****&ssl=true");
        assertThat(scrubber.scrub("postgres://etl:x1@db.internal:5432/app")).isEqualTo("postgres://etl:****@db.internal:5432/app");
        assertThat(scrubber.scrub("api_key: k-123 and X_AUTH_TOKEN=t-9")).isEqualTo("api_key: **** and X_AUTH_TOKEN=****");
    }

    @Test
    void http_urls_keep_only_scheme_host_and_port() {
        assertThat(scrubber.scrub("posting to https://hooks.slack.com/services/T1/B2/xyz now"))
                .isEqualTo("posting to https://hooks.slack.com/… now");
        assertThat(scrubber.scrub("GET http://files.example.com:8080/a.csv?sig=abc")).isEqualTo("GET http://files.example.com:8080/…");
    }

    @Test
    void the_nodes_own_secrets_are_masked_anywhere_and_ordinary_text_is_left_alone() {
        assertThat(scrubber.scrub("the password is s3cret-db-pw!")).isEqualTo("the password is ****!");
        // a secret shorter than 4 characters is not looked for: it would mask half of every line
        assertThat(scrubber.scrub("abc: 3 rows")).isEqualTo("abc: 3 rows");
        String plain = "sql statement 2 (line 3): INSERT, 310 rows, 12 ms";
        assertThat(scrubber.scrub(plain)).isEqualTo(plain);
        // a name that looks secret is masked, even when its value was a count: better one figure too few
        assertThat(new Scrubber(List.of()).scrub("tokens=5 of 9")).isEqualTo("tokens=**** of 9");
    }
}

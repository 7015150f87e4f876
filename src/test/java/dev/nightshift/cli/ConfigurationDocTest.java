package dev.nightshift.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nightshift.config.Setting;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The settings table of the configuration document is generated from {@link Setting}: this test
 * renders it and fails when the document differs. To bring the document up to date:
 * {@code mvn test -Dtest=ConfigurationDocTest -Ddocs.update=true}.
 */
class ConfigurationDocTest {
    static final Path DOC = Path.of("src/site/markdown/configuration.md");
    static final String BEGIN = "<!-- generated from src/main/java/dev/nightshift/config/Setting.java by ConfigurationDocTest; do not edit by hand -->";
    static final String END = "<!-- end of generated settings -->";

    /** The table: one row per setting, in the enum's order, with the descriptions the code carries. */
    static String render() {
        StringBuilder b = new StringBuilder();
        b.append("| key (`--config`) | environment | flag | default | meaning |\n");
        b.append("|---|---|---|---|---|\n");
        for (Setting s : Setting.values()) {
            b.append("| `").append(s.key()).append("` | `").append(s.envName()).append("` | ")
                    .append(s.secret() ? "(none: a secret stays off command lines)" : "`" + s.flag() + "`").append(" | ")
                    .append(s.defaultValue() == null ? "(unset)" : "`" + s.defaultValue() + "`").append(" | ")
                    .append(s.description().replace("|", "\\|")).append(" |\n");
        }
        return b.toString();
    }

    @Test
    void the_documented_settings_are_the_settings_of_the_code() throws Exception {
        String doc = Files.readString(DOC, StandardCharsets.UTF_8);
        int begin = doc.indexOf(BEGIN);
        int end = doc.indexOf(END);
        assertThat(begin).as("the generated section's first marker in " + DOC).isNotNegative();
        assertThat(end).as("the generated section's last marker in " + DOC).isGreaterThan(begin);
        String current = doc.substring(begin + BEGIN.length() + 1, end);
        String wanted = render();
        if (Boolean.getBoolean("docs.update")) {
            Files.writeString(DOC, doc.substring(0, begin + BEGIN.length() + 1) + wanted + doc.substring(end), StandardCharsets.UTF_8);
            return;
        }
        assertThat(current).as(DOC + " is out of date with Setting.java; run "
                + "mvn test -Dtest=ConfigurationDocTest -Ddocs.update=true").isEqualTo(wanted);
    }

    @Test
    void every_setting_but_the_secrets_has_its_flag_on_every_command() {
        Set<String> flags = CommandLine.Model.CommandSpec.forAnnotatedObject(new CommonOptions()).options().stream()
                .map(o -> o.longestName()).collect(Collectors.toCollection(TreeSet::new));
        Set<String> wanted = Arrays.stream(Setting.values()).filter(s -> !s.secret()).map(Setting::flag)
                .collect(Collectors.toCollection(TreeSet::new));
        wanted.add("--config");
        assertThat(flags).isEqualTo(wanted);
    }
}

package dev.nightshift.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The external tools some tests use, where {@code .ci/ops-setup} puts them or on the PATH; tests
 * skip (by assumption) when one is missing, so that a plain {@code mvn verify} passes anywhere.
 */
public final class Tools {
    /** Where .ci/ops-setup extracts promtool from Debian's prometheus package. */
    public static final Path OPS_TOOLS = Path.of("/opt/nightshift-tools/bin");

    private Tools() {
    }

    /** The first executable {@code name} in {@link #OPS_TOOLS}, then on the PATH. */
    public static Optional<Path> find(String name) {
        Stream<Path> dirs = Stream.concat(Stream.of(OPS_TOOLS),
                Stream.of(System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
                        .filter(s -> !s.isEmpty()).map(Path::of));
        return dirs.map(d -> d.resolve(name)).filter(Files::isExecutable).findFirst();
    }

    /**
     * Skips the calling test when a tool is missing, except under CI ({@code CI=true}), where
     * .ci/ops-setup installed it: a missing tool there is a failure, never a silent skip.
     */
    public static void require(boolean present, String what) {
        if (!present && "true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError(what + " is missing, and CI=true: .ci/ops-setup should have installed it");
        }
        org.assertj.core.api.Assumptions.assumeThat(present).as(what).isTrue();
    }

    /** What a finished process printed (stdout and stderr merged) and its exit code. */
    public record Result(int exitCode, String output) {
    }

    /** Runs a command with {@code stdin} as its input; fails after two minutes. */
    public static Result run(List<String> command, Path dir, String stdin) {
        try {
            Process p = new ProcessBuilder(command).directory(dir == null ? null : dir.toFile()).redirectErrorStream(true).start();
            try (var in = p.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(2, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + command);
            }
            return new Result(p.exitValue(), out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}

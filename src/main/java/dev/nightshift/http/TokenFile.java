package dev.nightshift.http;

import dev.nightshift.audit.Actor;
import dev.nightshift.audit.Role;
import dev.nightshift.config.ConfigException;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The named tokens of {@code NIGHTSHIFT_TOKENS_FILE}: one a line, {@code NAME ROLE SHA256-HEX}
 * (the hex SHA-256 of the token, never the token), {@code #} comments and blank lines allowed.
 * Read at start, where any bad line stops the node; read again whenever its content changes (each
 * lookup compares the file's bytes with those last read, a small file read per authenticated
 * request), where a bad line is logged with file and line and the tokens read before stay in
 * force: a half-edited file never locks everyone out nor lets anyone in. Thread-safe.
 */
final class TokenFile {
    private static final Logger log = LoggerFactory.getLogger(TokenFile.class);
    private static final Pattern HEX = Pattern.compile("[0-9a-fA-F]{64}");
    /** A tokens file is a few lines; anything bigger is a mistake (a wrong path). */
    static final int MAX_BYTES = 1024 * 1024;

    /** One line's token: its actor, and the SHA-256 of the token. */
    record Entry(Actor actor, byte[] hash) {
    }

    private final Path file;
    private byte[] content;
    private List<Entry> entries;

    private TokenFile(Path file, byte[] content, List<Entry> entries) {
        this.file = file;
        this.content = content;
        this.entries = entries;
    }

    /** Reads the file; every problem, with file and line, in one {@link ConfigException}. */
    static TokenFile load(Path file) {
        byte[] bytes = read(file);
        return new TokenFile(file, bytes, parse(file, bytes));
    }

    /** The entries in force: re-read when the file's content changed, the previous ones kept when it is now bad. */
    synchronized List<Entry> entries() {
        byte[] now;
        try {
            now = read(file);
        } catch (ConfigException e) {
            log.error("{}; the {} tokens read before stay in force", e.getMessage(), entries.size());
            return entries;
        }
        if (Arrays.equals(now, content)) {
            return entries;
        }
        content = now;
        try {
            entries = parse(file, now);
            log.info("{}: reloaded, {} tokens", file, entries.size());
        } catch (ConfigException e) {
            log.error("{} has bad lines, the {} tokens read before stay in force:\n{}", file, entries.size(), e.getMessage());
        }
        return entries;
    }

    private static byte[] read(Path file) {
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw new ConfigException(file + ": tokens file larger than " + MAX_BYTES + " bytes (NIGHTSHIFT_TOKENS_FILE)");
            }
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": tokens file not found (NIGHTSHIFT_TOKENS_FILE)");
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read the tokens file (NIGHTSHIFT_TOKENS_FILE): " + e.getMessage());
        }
    }

    /** Every line checked; all problems reported at once, each as {@code file:line: problem}. */
    static List<Entry> parse(Path file, byte[] bytes) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new ConfigException(file + ": the tokens file is not UTF-8 text");
        }
        List<String> problems = new ArrayList<>();
        List<Entry> entries = new ArrayList<>();
        Map<String, Integer> names = new HashMap<>();
        Map<String, Integer> hashes = new HashMap<>();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            String where = file + ":" + (i + 1) + ": ";
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\\s+");
            if (f.length != 3) {
                problems.add(where + "expected NAME ROLE SHA256-HEX (3 fields), got " + f.length + " field" + (f.length == 1 ? "" : "s"));
                continue;
            }
            int before = problems.size();
            if (!Actor.NAME.matcher(f[0]).matches()) {
                problems.add(where + "name '" + f[0] + "' must be 1-128 letters, digits and . _ @ : + -, starting with a letter or digit");
            } else if (names.containsKey(f[0])) {
                problems.add(where + "name '" + f[0] + "' is already used on line " + names.get(f[0]));
            }
            Role role = Role.parse(f[1]);
            if (role == null) {
                problems.add(where + "role '" + f[1] + "' must be admin, operator or read");
            }
            if (!HEX.matcher(f[2]).matches()) {
                // never echo the field: it may be a token pasted by mistake instead of its hash
                problems.add(where + "the third field must be the token's SHA-256 as 64 hex digits (sha256sum), got "
                        + f[2].length() + " characters" + (f[2].length() == 64 ? " that are not all hex digits" : ""));
            } else if (hashes.containsKey(f[2].toLowerCase(java.util.Locale.ROOT))) {
                problems.add(where + "the same token hash as line " + hashes.get(f[2].toLowerCase(java.util.Locale.ROOT))
                        + ": each name needs a token of its own");
            }
            names.putIfAbsent(f[0], i + 1);
            hashes.putIfAbsent(f[2].toLowerCase(java.util.Locale.ROOT), i + 1);
            if (problems.size() == before) {
                entries.add(new Entry(new Actor(f[0], role), HexFormat.of().parseHex(f[2].toLowerCase(java.util.Locale.ROOT))));
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return List.copyOf(entries);
    }
}

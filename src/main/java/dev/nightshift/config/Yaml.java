package dev.nightshift.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.Reader;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A YAML document read into nodes that remember their line, so that validation can name the
 * line of every problem. Jackson's streaming parser does the reading. Immutable once built.
 */
final class Yaml {
    private static final YAMLFactory FACTORY = new YAMLFactory();

    private Yaml() {
    }

    /** A file that is not valid UTF-8: the line (1-based) of its first bad byte. */
    static final class NotUtf8Exception extends IOException {
        final int line;

        NotUtf8Exception(int line) {
            super("not valid UTF-8 (first bad byte on this line)");
            this.line = line;
        }
    }

    /** Reads a YAML file's text, strictly UTF-8: a bad byte is reported with its line, never replaced or hidden in a parser error. */
    static String readUtf8(java.nio.file.Path file) throws IOException {
        byte[] bytes = java.nio.file.Files.readAllBytes(file);
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(bytes);
        java.nio.CharBuffer out = java.nio.CharBuffer.allocate(bytes.length);
        java.nio.charset.CoderResult r = java.nio.charset.StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT).decode(in, out, true);
        if (r.isError()) {
            int line = 1;
            for (int i = 0; i < in.position(); i++) {
                if (bytes[i] == '\n') {
                    line++;
                }
            }
            throw new NotUtf8Exception(line);
        }
        return out.flip().toString();
    }

    sealed interface Node permits Scalar, MapNode, ListNode {
        int line();

        default String kind() {
            return this instanceof MapNode ? "a mapping" : this instanceof ListNode ? "a list" : "a value";
        }
    }

    /** A scalar; {@code text} is null for YAML null ({@code ~}, {@code null} or nothing). */
    record Scalar(String text, JsonToken token, int line) implements Node {
        boolean isNull() {
            return token == JsonToken.VALUE_NULL;
        }
    }

    record Entry(String key, int line, Node value) {
    }

    record MapNode(Map<String, Entry> entries, int line) implements Node {
    }

    record ListNode(List<Node> items, int line) implements Node {
    }

    /** A YAML syntax error or a duplicate key, with the line it was found on. */
    static final class YamlSyntaxException extends Exception {
        final int line;

        YamlSyntaxException(String message, int line) {
            super(message);
            this.line = line;
        }
    }

    /** Reads one document; an empty document gives {@code null}. */
    static Node read(Reader in) throws IOException, YamlSyntaxException {
        try (JsonParser p = FACTORY.createParser(in)) {
            JsonToken t = p.nextToken();
            if (t == null) {
                return null;
            }
            return node(p);
        } catch (JsonProcessingException e) {
            int line = e.getLocation() == null ? 0 : e.getLocation().getLineNr();
            throw new YamlSyntaxException(e.getOriginalMessage(), line);
        }
    }

    private static Node node(JsonParser p) throws IOException, YamlSyntaxException {
        int line = p.currentTokenLocation().getLineNr();
        JsonToken t = p.currentToken();
        if (t == JsonToken.START_OBJECT) {
            Map<String, Entry> entries = new LinkedHashMap<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                int keyLine = p.currentTokenLocation().getLineNr();
                p.nextToken();
                Node value = node(p);
                if (entries.putIfAbsent(key, new Entry(key, keyLine, value)) != null) {
                    throw new YamlSyntaxException("duplicate key '" + key + "' (first on line "
                            + entries.get(key).line() + ")", keyLine);
                }
            }
            return new MapNode(Collections.unmodifiableMap(entries), line);
        }
        if (t == JsonToken.START_ARRAY) {
            List<Node> items = new ArrayList<>();
            while (p.nextToken() != JsonToken.END_ARRAY) {
                items.add(node(p));
            }
            return new ListNode(List.copyOf(items), line);
        }
        boolean isNull = t == JsonToken.VALUE_NULL;
        return new Scalar(isNull ? null : p.getText(), t, line);
    }
}

package dev.nightshift.json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** The one Jackson mapper of nightshift, for jsonb columns and --json output. Thread-safe. */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS);

    private Json() {
    }

    public static String write(Object o) {
        try {
            return MAPPER.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Map<String, String> stringMap(String json) {
        if (json == null) {
            return Map.of();
        }
        try {
            return MAPPER.readValue(json, new TypeReference<LinkedHashMap<String, String>>() { });
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A run's counts: whole numbers as {@code Long}, anything else (a guard's name, its limit) as text;
     * insertion order kept.
     */
    public static Map<String, Object> countMap(String json) {
        if (json == null) {
            return null;
        }
        try {
            Map<String, Object> out = new LinkedHashMap<>();
            MAPPER.readTree(json).properties().forEach(e -> out.put(e.getKey(),
                    e.getValue().isIntegralNumber() ? (Object) e.getValue().asLong() : e.getValue().asText()));
            return out;
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}

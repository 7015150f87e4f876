package dev.nightshift.queue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The queue's statements, read once from {@code db/queue.sql}: each follows a {@code -- name:} line,
 * and {@code :word} in it is a bind parameter set by that name (so each bind reads as what it is, and
 * one value used twice is set once). A statement refuses to run while one of its parameters is
 * unset. The loaded texts are immutable and shared; a {@link Bound} is used by one thread.
 */
public final class QueueSql {
    private static final String RESOURCE = "/db/queue.sql";
    /** A parameter: a colon not part of a {@code ::} cast, then a name. */
    private static final Pattern PARAM = Pattern.compile("(?<![:\\w]):([a-z][a-z_]*)");
    private static final Map<String, Text> STATEMENTS = load();

    private QueueSql() {
    }

    /** A statement with its parameters' names in the order of their {@code ?}. */
    private record Text(String sql, List<String> params) {
    }

    private static Map<String, Text> load() {
        String file;
        try (InputStream in = QueueSql.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is not on the class path");
            }
            file = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + RESOURCE + ": " + e.getMessage(), e);
        }
        Map<String, Text> out = new LinkedHashMap<>();
        String name = null;
        StringBuilder body = new StringBuilder();
        for (String line : file.split("\n", -1)) {
            if (line.startsWith("-- name: ")) {
                put(out, name, body);
                name = line.substring("-- name: ".length()).trim();
                body.setLength(0);
            } else if (name != null && !line.stripLeading().startsWith("--")) {
                body.append(line).append('\n');
            }
        }
        put(out, name, body);
        return Map.copyOf(out);
    }

    private static void put(Map<String, Text> out, String name, StringBuilder body) {
        if (name == null) {
            return;
        }
        List<String> params = new ArrayList<>();
        Matcher m = PARAM.matcher(body.toString().strip());
        StringBuilder sql = new StringBuilder();
        while (m.find()) {
            params.add(m.group(1));
            m.appendReplacement(sql, "?");
        }
        m.appendTail(sql);
        if (out.put(name, new Text(sql.toString(), List.copyOf(params))) != null) {
            throw new IllegalStateException(RESOURCE + " names two statements " + name);
        }
    }

    /** The names of the statements, for tests. */
    static Set<String> names() {
        return STATEMENTS.keySet();
    }

    /** Prepares statement {@code name} on {@code c}. */
    public static Bound prepare(Connection c, String name) throws SQLException {
        Text t = STATEMENTS.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no statement " + name + " in " + RESOURCE);
        }
        return new Bound(c.prepareStatement(t.sql()), name, t.params());
    }

    /**
     * Prepares statement {@code name} followed by {@code COMMIT}, sent in one round trip: after an
     * error the server skips the rest, so a failed statement never reaches the COMMIT. Run it with
     * {@link Bound#execute()}; its result is the statement's.
     */
    static Bound prepareThenCommit(Connection c, String name) throws SQLException {
        Text t = STATEMENTS.get(name);
        return new Bound(c.prepareStatement(t.sql() + ";\nCOMMIT"), name, t.params());
    }

    /** A prepared statement whose parameters are set by name. Not thread-safe. */
    public static final class Bound implements AutoCloseable {
        private final PreparedStatement ps;
        private final String name;
        private final List<String> params;
        private final Set<String> set = new HashSet<>();

        private Bound(PreparedStatement ps, String name, List<String> params) {
            this.ps = ps;
            this.name = name;
            this.params = params;
        }

        private Bound set(String param, Object value, int type) throws SQLException {
            boolean found = false;
            for (int i = 0; i < params.size(); i++) {
                if (params.get(i).equals(param)) {
                    if (value == null) {
                        ps.setNull(i + 1, type);
                    } else {
                        ps.setObject(i + 1, value, type);
                    }
                    found = true;
                }
            }
            if (!found) {
                throw new IllegalArgumentException("statement " + name + " has no parameter :" + param);
            }
            set.add(param);
            return this;
        }

        public Bound text(String param, String value) throws SQLException {
            return set(param, value, Types.VARCHAR);
        }

        public Bound bigint(String param, Long value) throws SQLException {
            return set(param, value, Types.BIGINT);
        }

        public Bound integer(String param, Integer value) throws SQLException {
            return set(param, value, Types.INTEGER);
        }

        public Bound bool(String param, boolean value) throws SQLException {
            return set(param, value, Types.BOOLEAN);
        }

        public Bound time(String param, Instant value) throws SQLException {
            return set(param, value == null ? null : Timestamp.from(value), Types.TIMESTAMP);
        }

        public Bound texts(String param, Collection<String> values) throws SQLException {
            for (int i = 0; i < params.size(); i++) {
                if (params.get(i).equals(param)) {
                    ps.setArray(i + 1, ps.getConnection().createArrayOf("text", values.toArray()));
                    set.add(param);
                }
            }
            if (!set.contains(param)) {
                throw new IllegalArgumentException("statement " + name + " has no parameter :" + param);
            }
            return this;
        }

        private void checkSet() {
            for (String p : params) {
                if (!set.contains(p)) {
                    throw new IllegalStateException("statement " + name + ": parameter :" + p + " not set");
                }
            }
        }

        public ResultSet query() throws SQLException {
            checkSet();
            return ps.executeQuery();
        }

        /** Runs a statement sent with another (see {@link #prepareThenCommit}); the first result set, or null. */
        public ResultSet execute() throws SQLException {
            checkSet();
            ps.execute();
            return ps.getResultSet();
        }

        public int update() throws SQLException {
            checkSet();
            return ps.executeUpdate();
        }

        @Override
        public void close() throws SQLException {
            ps.close();
        }
    }
}

package dev.nightshift.cli;

import dev.nightshift.config.Setting;
import dev.nightshift.config.Settings;
import dev.nightshift.config.SettingsLoader;
import dev.nightshift.db.Database;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.EnumMap;
import java.util.Map;

/**
 * A database created for a benchmark next to the configured one (same server, same user) and
 * dropped afterwards, so that a benchmark never touches real jobs and runs.
 */
final class ScratchDatabase implements AutoCloseable {
    private final Database admin;
    private final String name;
    private final String url;

    ScratchDatabase(Settings settings, String purpose) throws SQLException {
        this.admin = Database.open(settings, 2);
        this.name = "nightshift_bench_" + purpose + "_" + ProcessHandle.current().pid();
        try (Connection c = admin.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + name);
            s.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            admin.close();
            throw new SQLException("cannot create the scratch database " + name + " (the benchmark needs CREATEDB): "
                    + e.getMessage(), e.getSQLState(), e);
        }
        String base = admin.url();
        int q = base.indexOf('?');
        String path = q < 0 ? base : base.substring(0, q);
        url = path.substring(0, path.lastIndexOf('/') + 1) + name + (q < 0 ? "" : base.substring(q));
    }

    /** The same settings, pointed at the scratch database. */
    Settings settings(Settings base, Map<Setting, String> overrides) {
        Map<Setting, String> flags = new EnumMap<>(Setting.class);
        flags.put(Setting.DB_URL, url);
        if (base.dbUser() != null) {
            flags.put(Setting.DB_USER, base.dbUser());
        } else if (base.embedded()) {
            flags.put(Setting.DB_USER, "postgres");
        }
        if (base.dbPassword() != null) {
            flags.put(Setting.DB_PASSWORD, base.dbPassword());
        }
        flags.put(Setting.JOBS_DIR, base.jobsDir().toString());
        flags.put(Setting.HOME, base.home().toString());
        flags.put(Setting.NODE_NAME, base.nodeName());
        flags.putAll(overrides);
        return SettingsLoader.load(Map.of(), null, flags);
    }

    @Override
    public void close() throws SQLException {
        try (Connection c = admin.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        } finally {
            admin.close();
        }
    }
}

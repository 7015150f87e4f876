package dev.nightshift.http;

import javax.sql.DataSource;

/** placeholder */
final class Dashboard {
    Dashboard(DataSource ds, String node) {
    }

    void routes(Router r) {
    }
}

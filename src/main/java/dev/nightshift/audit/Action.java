package dev.nightshift.audit;

/** The actions that change something, each with the least role it needs and its name in the audit table. */
public enum Action {
    TRIGGER("trigger", Role.OPERATOR),
    CANCEL("cancel", Role.OPERATOR),
    RETRY("retry", Role.OPERATOR),
    PAUSE("pause", Role.OPERATOR),
    RESUME("resume", Role.OPERATOR),
    BACKFILL("backfill", Role.OPERATOR),
    BACKFILL_CANCEL("backfill-cancel", Role.OPERATOR),
    /** Running a delivery a guard refused (issue 20): an admin's decision. */
    GUARD_OVERRIDE("guard-override", Role.ADMIN),
    SETTINGS("settings", Role.ADMIN);

    private final String dbName;
    private final Role needs;

    Action(String dbName, Role needs) {
        this.dbName = dbName;
        this.needs = needs;
    }

    public String dbName() {
        return dbName;
    }

    /** The least role allowed to do it. */
    public Role needs() {
        return needs;
    }

    /** The action named {@code s} in the audit table, or null. */
    public static Action parse(String s) {
        for (Action a : values()) {
            if (a.dbName.equals(s)) {
                return a;
            }
        }
        return null;
    }
}

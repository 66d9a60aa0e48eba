/*
 * Every SQL statement of the store, in one place.
 *
 * Times are integer milliseconds since the epoch, UTC.  findings.ts is the
 * record's own time, or the read time when the record had none
 * (ts_known = 0), so that every finding sorts and filters by one indexed
 * column.  Hashes are stored as signed 64-bit integers (SQLite's integer).
 *
 * findings carries only the indexes the write path needs (the unique
 * (file_id, offset) key) and the time index every report filters by: each
 * extra index costs the scan about a fifth of its insert time (measured with
 * bench/run.sh), while a report groups the rows of its time range once.
 */
#ifndef AGENTWATCH_STORE_SQL_H
#define AGENTWATCH_STORE_SQL_H

/* Migrations: MIGRATIONS[i] brings the schema from version i to i + 1. */

#define SQL_MIGRATE_1 \
    "CREATE TABLE files (" \
    "  id INTEGER PRIMARY KEY," \
    "  dev INTEGER NOT NULL," \
    "  ino INTEGER NOT NULL," \
    "  head BLOB NOT NULL," \
    "  head_key INTEGER," \
    "  path TEXT NOT NULL," \
    "  format TEXT NOT NULL," \
    "  encoding TEXT NOT NULL," \
    "  size INTEGER NOT NULL DEFAULT 0," \
    "  offset INTEGER NOT NULL DEFAULT 0," \
    "  marker INTEGER NOT NULL DEFAULT 0," \
    "  records INTEGER NOT NULL DEFAULT 0," \
    "  truncated INTEGER NOT NULL DEFAULT 0," \
    "  findings INTEGER NOT NULL DEFAULT 0," \
    "  first_seen INTEGER NOT NULL," \
    "  last_read INTEGER NOT NULL);" \
    "CREATE INDEX files_head_key ON files(head_key);" \
    "CREATE INDEX files_inode ON files(dev, ino);" \
    "CREATE TABLE findings (" \
    "  id INTEGER PRIMARY KEY," \
    "  ts INTEGER NOT NULL," \
    "  ts_known INTEGER NOT NULL," \
    "  read_ts INTEGER NOT NULL," \
    "  host TEXT NOT NULL," \
    "  file_id INTEGER NOT NULL REFERENCES files(id)," \
    "  path TEXT NOT NULL," \
    "  offset INTEGER NOT NULL," \
    "  rule TEXT NOT NULL," \
    "  category TEXT NOT NULL," \
    "  severity TEXT NOT NULL," \
    "  level TEXT NOT NULL," \
    "  message TEXT NOT NULL," \
    "  partial INTEGER NOT NULL DEFAULT 0," \
    "  UNIQUE (file_id, offset));" \
    "CREATE INDEX findings_ts ON findings(ts);"

/* Schema 1 as first released (commit b9cf504) had no findings.partial:
 * the column was added to SQL_MIGRATE_1 itself afterwards (6e8d6a8), so a
 * version-1 database may lack it.  The step to version 2 adds it then
 * (tests/data/schema-v1.db is such a database). */
#define SQL_V1_HAS_PARTIAL \
    "SELECT count(*) FROM pragma_table_info('findings') WHERE name = 'partial'"
#define SQL_V1_ADD_PARTIAL \
    "ALTER TABLE findings ADD COLUMN partial INTEGER NOT NULL DEFAULT 0"

#define SQL_MIGRATE_2 \
    "CREATE TABLE rules (" \
    "  id TEXT PRIMARY KEY," \
    "  category TEXT NOT NULL," \
    "  severity TEXT NOT NULL," \
    "  cause TEXT NOT NULL," \
    "  remedy TEXT NOT NULL," \
    "  pattern TEXT NOT NULL," \
    "  updated INTEGER NOT NULL);"

/* What a rule captured: the server or URL the agent was talking to and the
 * error code, as written in the record (NULL when the rule captured none). */
#define SQL_MIGRATE_3 \
    "ALTER TABLE findings ADD COLUMN target TEXT;" \
    "ALTER TABLE findings ADD COLUMN code TEXT;"

/* No raw file content in the database (issue 16): the head that
 * identifies a file is kept as its length and FNV-1a hashes of its first
 * 1, 2, 4 ... 512 bytes and of the whole head (aw_fileid_head_sums), so
 * that a file still tiny after rotation is still recognised as a prefix
 * of its later self.  aw_head_sums() is registered by the store for this
 * step.  secure_delete overwrites the freed pages that held the bytes.
 * The application_id marks the file as agentwatch's (src/store.c). */
#define SQL_MIGRATE_7 \
    "PRAGMA secure_delete = ON;" \
    "PRAGMA application_id = 1097291636;" /* AW_APPLICATION_ID, "AgWt" */ \
    "ALTER TABLE files ADD COLUMN head_len INTEGER NOT NULL DEFAULT 0;" \
    "ALTER TABLE files ADD COLUMN head_sums BLOB NOT NULL DEFAULT x'';" \
    "UPDATE files SET head_len = length(head), head_sums = aw_head_sums(head);" \
    "ALTER TABLE files DROP COLUMN head;"

/* Hour (UTC) of a time in ms: the floor, also for times before 1970. */
#define SQL_HOUR(x) "((" x ") - (((" x ") % 3600000) + 3600000) % 3600000)"

/* finding_hours: per hour, host, rule and category, how many findings and
 * the first and last time, so that a report over months reads thousands of
 * rows instead of millions (see src/query.c).  New findings are tallied by
 * the store per transaction and added at commit (src/hours.c,
 * SQL_HOURS_UPSERT): an insert trigger, one upsert per finding, made the
 * whole scan a third slower (bench/run.sh).  Triggers keep the table exact
 * on delete and on the completion of a partial finding.  Existing
 * findings are counted in once. */
#define SQL_MIGRATE_4 \
    "CREATE TABLE finding_hours (" \
    "  hour INTEGER NOT NULL," \
    "  host TEXT NOT NULL," \
    "  rule TEXT NOT NULL," \
    "  category TEXT NOT NULL," \
    "  count INTEGER NOT NULL," \
    "  first INTEGER NOT NULL," \
    "  last INTEGER NOT NULL," \
    "  PRIMARY KEY (hour, host, rule, category)) WITHOUT ROWID;" \
    "INSERT INTO finding_hours (hour, host, rule, category, count, first, last)" \
    " SELECT " SQL_HOUR("ts") ", host, rule, category, count(*), min(ts), max(ts)" \
    " FROM findings GROUP BY 1, 2, 3, 4;" \
    /* Only the count is kept exact on delete: first/last of a group that \
     * lost rows may be too wide.  Prune, the only deleter, recounts the \
     * one hour it cuts through. */ \
    "CREATE TRIGGER findings_hours_delete AFTER DELETE ON findings BEGIN" \
    " UPDATE finding_hours SET count = count - 1 WHERE hour = " SQL_HOUR("old.ts") \
    " AND host = old.host AND rule = old.rule AND category = old.category;" \
    " DELETE FROM finding_hours WHERE hour = " SQL_HOUR("old.ts") \
    " AND host = old.host AND rule = old.rule AND category = old.category AND count <= 0;" \
    " END;" \
    /* A partial finding completed (rare): recount both groups from the \
     * findings of their hour. */ \
    "CREATE TRIGGER findings_hours_update AFTER UPDATE OF ts, host, rule, category ON findings" \
    " BEGIN" \
    " DELETE FROM finding_hours WHERE hour = " SQL_HOUR("old.ts") \
    " AND host = old.host AND rule = old.rule AND category = old.category;" \
    " DELETE FROM finding_hours WHERE hour = " SQL_HOUR("new.ts") \
    " AND host = new.host AND rule = new.rule AND category = new.category;" \
    " INSERT OR REPLACE INTO finding_hours (hour, host, rule, category, count, first, last)" \
    " SELECT " SQL_HOUR("old.ts") ", host, rule, category, count(*), min(ts), max(ts)" \
    " FROM findings WHERE ts >= " SQL_HOUR("old.ts") " AND ts < " SQL_HOUR("old.ts") \
    " + 3600000 AND host = old.host AND rule = old.rule AND category = old.category" \
    " GROUP BY host, rule, category;" \
    " INSERT OR REPLACE INTO finding_hours (hour, host, rule, category, count, first, last)" \
    " SELECT " SQL_HOUR("new.ts") ", host, rule, category, count(*), min(ts), max(ts)" \
    " FROM findings WHERE ts >= " SQL_HOUR("new.ts") " AND ts < " SQL_HOUR("new.ts") \
    " + 3600000 AND host = new.host AND rule = new.rule AND category = new.category" \
    " GROUP BY host, rule, category;" \
    " END;"

/* Export cursors and the shipper spool (issue 13, src/cursor.c,
 * src/spool.c).  Both remember the highest finding id they have passed;
 * findings ids only grow, except that SQLite gives a new row max(id) + 1,
 * so deleting the newest findings (prune) would let new findings reuse ids
 * a cursor has passed.  The trigger moves every mark back to the highest
 * id left whenever the highest row is deleted, so a reused id is always
 * beyond every mark: nothing is skipped (nothing deleted is repeated
 * either, it is gone). */
#define SQL_MIGRATE_5 \
    "CREATE TABLE export_cursors (" \
    "  name TEXT PRIMARY KEY," \
    "  last_id INTEGER NOT NULL," \
    "  exported INTEGER NOT NULL DEFAULT 0," \
    "  created INTEGER NOT NULL," \
    "  updated INTEGER NOT NULL);" \
    "CREATE TABLE spool_state (" \
    "  dir TEXT PRIMARY KEY," \
    "  sequence INTEGER NOT NULL," \
    "  offset INTEGER NOT NULL," \
    "  last_id INTEGER NOT NULL," \
    "  written INTEGER NOT NULL DEFAULT 0," \
    "  updated INTEGER NOT NULL);" \
    "CREATE TRIGGER findings_marks_delete AFTER DELETE ON findings" \
    " WHEN old.id > (SELECT coalesce(max(id), 0) FROM findings) BEGIN" \
    " UPDATE export_cursors SET last_id = (SELECT coalesce(max(id), 0) FROM findings)" \
    " WHERE last_id > (SELECT coalesce(max(id), 0) FROM findings);" \
    " UPDATE spool_state SET last_id = (SELECT coalesce(max(id), 0) FROM findings)" \
    " WHERE last_id > (SELECT coalesce(max(id), 0) FROM findings);" \
    " END;"

/* ts_inferred: the record did not say its year or its UTC offset, so ts
 * rests on the year inference and the endpoint's zone (timeutil.h).  Older
 * findings were stored when such times were not parsed at all: 0. */
#define SQL_MIGRATE_6 \
    "ALTER TABLE findings ADD COLUMN ts_inferred INTEGER NOT NULL DEFAULT 0;"

/* The server certificate each probed target showed (src/probe_store.c),
 * for "certificate of X changed at T" in report (issue 12). */
#define SQL_MIGRATE_8 \
    "CREATE TABLE server_certs (" \
    "  target TEXT NOT NULL," \
    "  sha256 TEXT NOT NULL," \
    "  sha1 TEXT NOT NULL," \
    "  serial TEXT NOT NULL," \
    "  subject TEXT NOT NULL," \
    "  issuer TEXT NOT NULL," \
    "  not_after TEXT NOT NULL," \
    "  first_seen INTEGER NOT NULL," \
    "  last_seen INTEGER NOT NULL," \
    "  PRIMARY KEY (target, sha256));"

/* The server certificate a probe finding saw, per finding (issue 13: the
 * ECS tls.server.* fields of export and the spool).  server_certs keeps one
 * row per target and certificate with a first and last sighting, which
 * cannot say which certificate a given probe saw once a server flapped
 * between two (A, B, A): so each probe finding gets its own row, deleted
 * with it.  Probes stored before this migration have none. */
#define SQL_MIGRATE_9 \
    "CREATE TABLE probe_certs (" \
    "  finding_id INTEGER PRIMARY KEY REFERENCES findings(id) ON DELETE CASCADE," \
    "  sha256 TEXT NOT NULL," \
    "  sha1 TEXT NOT NULL," \
    "  serial TEXT NOT NULL," \
    "  subject TEXT NOT NULL," \
    "  issuer TEXT NOT NULL," \
    "  not_before TEXT NOT NULL," \
    "  not_after TEXT NOT NULL," \
    "  san TEXT NOT NULL);"

/* The newest record time read from each file (quiet endpoints of agents
 * whose success markers no rule knows): with it, report and status
 * can say that a log went on after its last failure although no success
 * marker was found.  last_record is the latest known record time (ms,
 * inferred years and zones included; NULL until a record with a time is
 * read), last_record_host the host that record was attributed to (the
 * --host of the scan, the record's own host, else this machine's), so
 * that the value is used only for the host it belongs to.  Files read
 * before this migration have NULL in both: unknown, never guessed. */
#define SQL_MIGRATE_10 \
    "ALTER TABLE files ADD COLUMN last_record INTEGER;" \
    "ALTER TABLE files ADD COLUMN last_record_host TEXT;"

/* Add a transaction's tally of one group (src/hours.c). */
#define SQL_HOURS_UPSERT \
    "INSERT INTO finding_hours (hour, host, rule, category, count, first, last)" \
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO UPDATE SET" \
    " count = count + excluded.count, first = min(first, excluded.first)," \
    " last = max(last, excluded.last)"

#define SQL_FILE_CANDIDATES \
    "SELECT id, dev, ino, size, offset, marker, head_len, head_sums FROM files" \
    " WHERE head_key = ?1 OR head_key IS NULL OR (dev = ?2 AND ino = ?3)"

#define SQL_FILE_INSERT \
    "INSERT INTO files (dev, ino, head_sums, head_key, path, format, encoding, first_seen," \
    " last_read, head_len) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9)"

#define SQL_FILE_PROGRESS \
    "UPDATE files SET dev = ?2, ino = ?3, head_sums = ?4, head_key = ?5, path = ?6, size = ?7," \
    " offset = ?8, marker = ?9, records = records + ?10, truncated = truncated + ?11," \
    " findings = findings + ?12, last_read = ?13, head_len = ?14," \
    " last_record_host = CASE WHEN ?15 IS NOT NULL AND (last_record IS NULL" \
    " OR ?15 >= last_record) THEN ?16 ELSE last_record_host END," \
    " last_record = CASE WHEN ?15 IS NOT NULL AND (last_record IS NULL" \
    " OR ?15 >= last_record) THEN ?15 ELSE last_record END WHERE id = ?1"

#define SQL_FILES_UNREAD \
    "SELECT id, path, offset, size FROM files WHERE offset < size ORDER BY id"

#define SQL_FILE_SETTLE \
    "UPDATE files SET size = offset WHERE id = ?1"

#define SQL_FINDING_INSERT \
    "INSERT OR IGNORE INTO findings (ts, ts_known, read_ts, host, file_id, path, offset, rule," \
    " category, severity, level, message, partial, target, code, ts_inferred)" \
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"

/* A finding first stored from a record still being written is replaced by
 * the classification of the whole record; a complete one is never touched.
 * Same parameters as SQL_FINDING_INSERT. */
#define SQL_FINDING_COMPLETE \
    "UPDATE findings SET ts = ?1, ts_known = ?2, read_ts = ?3, host = ?4, path = ?6," \
    " rule = ?8, category = ?9, severity = ?10, level = ?11, message = ?12, partial = ?13," \
    " target = ?14, code = ?15, ts_inferred = ?16" \
    " WHERE file_id = ?5 AND offset = ?7 AND partial = 1"

#define SQL_RULE_UPSERT \
    "INSERT INTO rules (id, category, severity, cause, remedy, pattern, updated)" \
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)" \
    " ON CONFLICT(id) DO UPDATE SET category = excluded.category," \
    " severity = excluded.severity, cause = excluded.cause, remedy = excluded.remedy," \
    " pattern = excluded.pattern, updated = excluded.updated"

/* ---- queries of src/query.c and src/retention.c (issue 4) ----------- */

/* The set a query looks at: ?3 category, ?4 rule, ?5 host (NULL = any),
 * ?6 kind: 0 every finding, 1 failures (neither health nor agentwatch's
 * own data-gap reports, which say nothing about the agent's connection),
 * 2 success markers (health; the name is AW_CATEGORY_HEALTH).  Used on
 * findings and on finding_hours alike. */
#define SQL_Q_SET \
    " AND (?3 IS NULL OR category = ?3) AND (?4 IS NULL OR rule = ?4)" \
    " AND (?5 IS NULL OR host = ?5) AND (?6 = 0" \
    " OR (?6 = 1 AND category NOT IN ('health', 'agentwatch'))" \
    " OR (?6 = 2 AND category = 'health'))"

/* A time range [?1, ?8) split into whole hours [?2, ?7) read from
 * finding_hours and the partial hours at both ends read from findings. */
#define SQL_Q_RANGE(agg_cols, row_cols) \
    "SELECT " agg_cols " FROM finding_hours WHERE hour >= ?2 AND hour < ?7" SQL_Q_SET \
    " UNION ALL SELECT " row_cols " FROM findings WHERE ts >= ?1 AND ts < ?2" SQL_Q_SET \
    " UNION ALL SELECT " row_cols " FROM findings WHERE ts >= ?7 AND ts < ?8" SQL_Q_SET

#define SQL_Q_BY_CATEGORY \
    "SELECT category, sum(n), min(first), max(last) FROM (" \
    SQL_Q_RANGE("category, count AS n, first, last", "category, 1, ts, ts") \
    ") GROUP BY category ORDER BY max(last) DESC, category"

#define SQL_Q_BY_RULE \
    "SELECT g.rule, g.category, g.n, g.first, g.last, coalesce(r.cause, '')," \
    " coalesce(r.remedy, '') FROM (SELECT rule, category, sum(n) AS n, min(first) AS first," \
    " max(last) AS last FROM (" \
    SQL_Q_RANGE("rule, category, count AS n, first, last", "rule, category, 1, ts, ts") \
    ") GROUP BY rule, category) g LEFT JOIN rules r ON r.id = g.rule" \
    " ORDER BY g.last DESC, g.rule"

/* ?9 bucket width in ms; buckets start at multiples of it (UTC). */
#define SQL_Q_BUCKETS \
    "SELECT b, category, sum(n) FROM (" \
    SQL_Q_RANGE("hour - ((hour % ?9) + ?9) % ?9 AS b, category, count AS n", \
                "ts - ((ts % ?9) + ?9) % ?9, category, 1") \
    ") GROUP BY b, category ORDER BY b, category"

/* Findings at one instant ?1 with ?2 < id <= ?7, per category. */
#define SQL_Q_AT_COUNT \
    "SELECT category, count(*) FROM findings WHERE ts = ?1 AND id > ?2 AND id <= ?7" \
    SQL_Q_SET " GROUP BY category"

/* Neighbours of a position (ts, id) in log order. */
#define SQL_Q_LAST_AT \
    "SELECT ts, id FROM findings WHERE ts = ?1 AND id < ?2" SQL_Q_SET \
    " ORDER BY id DESC LIMIT 1"
#define SQL_Q_FIRST_AT \
    "SELECT ts, id FROM findings WHERE ts = ?1 AND id > ?2" SQL_Q_SET \
    " ORDER BY id LIMIT 1"
#define SQL_Q_LAST_IN \
    "SELECT ts, id FROM findings WHERE ts >= ?1 AND ts < ?2" SQL_Q_SET \
    " ORDER BY ts DESC, id DESC LIMIT 1"
#define SQL_Q_FIRST_IN \
    "SELECT ts, id FROM findings WHERE ts >= ?1 AND ts < ?2" SQL_Q_SET \
    " ORDER BY ts, id LIMIT 1"
#define SQL_Q_HOUR_BEFORE \
    "SELECT hour FROM finding_hours WHERE hour >= ?1 AND hour < ?2" SQL_Q_SET \
    " ORDER BY hour DESC LIMIT 1"
#define SQL_Q_HOUR_AFTER \
    "SELECT hour FROM finding_hours WHERE hour >= ?1 AND hour < ?2" SQL_Q_SET \
    " ORDER BY hour LIMIT 1"

/* The columns of an exported finding; the hashes of the file's head (its identity for
 * the ECS event.id, src/ecs.c) comes with it, and a probe finding's server
 * certificate (NULLs for every other finding). */
#define SQL_Q_EXPORT_COLS \
    "SELECT ts, ts_known, read_ts, host, file_id, path, offset, rule, category, severity," \
    " level, message, partial, target, code, id," \
    " (SELECT head_sums FROM files WHERE files.id = findings.file_id), ts_inferred," \
    " pc.sha256, pc.sha1, pc.serial, pc.subject, pc.issuer, pc.not_before, pc.not_after, pc.san" \
    " FROM findings LEFT JOIN probe_certs pc ON pc.finding_id = findings.id"

#define SQL_Q_EXPORT \
    SQL_Q_EXPORT_COLS " WHERE ts >= ?1 AND ts < ?2" SQL_Q_SET " ORDER BY ts, id"

/* The same for the ids (?9, ?10] in id order: an export cursor's batch. */
#define SQL_Q_EXPORT_IDS \
    SQL_Q_EXPORT_COLS " WHERE id > ?9 AND id <= ?10 AND ts >= ?1 AND ts < ?2" SQL_Q_SET \
    " ORDER BY id"

/* ---- export cursors (src/cursor.c) ---------------------------------- */

#define SQL_CURSOR_GET "SELECT last_id FROM export_cursors WHERE name = ?1"
#define SQL_CURSOR_MAX_ID "SELECT coalesce(max(id), 0) FROM findings"
/* Advance from ?2 to ?3 only if nobody moved the cursor meanwhile. */
#define SQL_CURSOR_ADVANCE \
    "UPDATE export_cursors SET last_id = ?3, exported = exported + ?4, updated = ?5" \
    " WHERE name = ?1 AND last_id = ?2"
#define SQL_CURSOR_CREATE \
    "INSERT INTO export_cursors (name, last_id, exported, created, updated)" \
    " VALUES (?1, ?3, ?4, ?5, ?5)"
#define SQL_CURSOR_LIST \
    "SELECT name, last_id, exported, created, updated," \
    " (SELECT count(*) FROM findings WHERE id > c.last_id) FROM export_cursors c ORDER BY name"
#define SQL_CURSOR_RESET "DELETE FROM export_cursors WHERE name = ?1"

/* Findings of the window whose time rests on an inferred year or zone
 * (report's time_inferred). */
#define SQL_Q_INFERRED \
    "SELECT count(*) FROM findings WHERE ts >= ?1 AND ts < ?2" SQL_Q_SET " AND ts_inferred = 1"

/* Records a match limit kept from being classified (rule
 * agentwatch.match-limit, AW_LIMIT_RULE of scan.h), per stopped rule (the
 * finding's code) with that rule's category: ?1..?8 the window [?1, ?8)
 * with ?2 its first hour, ?4 the stopped rule, ?3 its category (or the
 * finding's own rule and category), ?5 the host (NULL = any).  The hours that hold such findings come from
 * finding_hours, so only their findings are read, never a whole window's. */
#define SQL_Q_LIMIT_HITS \
    "SELECT f.code, coalesce(r.category, ''), count(*), min(f.ts), max(f.ts)" \
    " FROM finding_hours h JOIN findings f ON f.ts >= h.hour AND f.ts < h.hour + 3600000" \
    " AND f.host = h.host AND f.rule = h.rule AND f.category = h.category" \
    " LEFT JOIN rules r ON r.id = f.code" \
    " WHERE h.rule = 'agentwatch.match-limit' AND h.hour >= ?2 AND h.hour < ?8" \
    " AND f.ts >= ?1 AND f.ts < ?8 AND (?5 IS NULL OR h.host = ?5)" \
    " AND (?4 IS NULL OR f.code = ?4 OR ?4 = h.rule)" \
    " AND (?3 IS NULL OR r.category = ?3 OR ?3 = h.category)" \
    " AND ?6 = ?6 AND ?7 = ?7 GROUP BY f.code ORDER BY max(f.ts) DESC, f.code"

/* The target most often named by the failures of [?1, ?2), among the
 * AW_QUERY_TARGET_SAMPLE most recent of them (a bound: an incident of
 * millions of failures costs no more than one of thousands); ties go to
 * the first by name.  status's "top target" (issue 13). */
#define SQL_Q_TOP_TARGET \
    "SELECT target, count(*) AS n FROM (SELECT target FROM findings" \
    " WHERE ts >= ?1 AND ts < ?2" SQL_Q_SET " AND target IS NOT NULL AND target <> ''" \
    " ORDER BY ts DESC, id DESC LIMIT 10000) GROUP BY target ORDER BY n DESC, target LIMIT 1"

/* The newest record time read from the logs of the host of finding ?2
 * (report's and status's state.last_record, schema 10), among the files
 * whose newest record is not after ?1 (the window's end): a file keeps
 * only its newest time, so one whose newest record lies after --until
 * says nothing about its records up to it, and is left out. */
#define SQL_Q_LAST_RECORD \
    "SELECT max(last_record) FROM files WHERE last_record <= ?1" \
    " AND last_record_host = (SELECT host FROM findings WHERE id = ?2)"

/* The newest finding and the last read of new log content (status
 * --max-age); both answered from an index or a small table.  Probe
 * findings count: a probe is fresh evidence too. */
#define SQL_Q_NEWEST \
    "SELECT (SELECT max(ts) FROM findings), (SELECT max(last_read) FROM files WHERE dev <> -1)"

#define SQL_PRUNE_OLDEST "SELECT min(ts) FROM findings"
#define SQL_PRUNE_DELETE "DELETE FROM findings WHERE ts >= ?1 AND ts < ?2"
/* Recount hour ?1 after part of it was deleted (exact first/last). */
#define SQL_PRUNE_UNCOUNT "DELETE FROM finding_hours WHERE hour = ?1"
#define SQL_PRUNE_RECOUNT \
    "INSERT INTO finding_hours (hour, host, rule, category, count, first, last)" \
    " SELECT ?1, host, rule, category, count(*), min(ts), max(ts) FROM findings" \
    " WHERE ts >= ?1 AND ts < ?1 + 3600000 GROUP BY host, rule, category"

#endif

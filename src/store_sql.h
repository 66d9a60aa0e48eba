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

#define SQL_FILE_CANDIDATES \
    "SELECT id, dev, ino, size, offset, marker, head FROM files" \
    " WHERE head_key = ?1 OR head_key IS NULL OR (dev = ?2 AND ino = ?3)"

#define SQL_FILE_INSERT \
    "INSERT INTO files (dev, ino, head, head_key, path, format, encoding, first_seen, last_read)" \
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)"

#define SQL_FILE_PROGRESS \
    "UPDATE files SET dev = ?2, ino = ?3, head = ?4, head_key = ?5, path = ?6, size = ?7," \
    " offset = ?8, marker = ?9, records = records + ?10, truncated = truncated + ?11," \
    " findings = findings + ?12, last_read = ?13 WHERE id = ?1"

#define SQL_FILES_UNREAD \
    "SELECT id, path, offset, size FROM files WHERE offset < size ORDER BY id"

#define SQL_FILE_SETTLE \
    "UPDATE files SET size = offset WHERE id = ?1"

#define SQL_FINDING_INSERT \
    "INSERT OR IGNORE INTO findings (ts, ts_known, read_ts, host, file_id, path, offset, rule," \
    " category, severity, level, message, partial, target, code)" \
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"

/* A finding first stored from a record still being written is replaced by
 * the classification of the whole record; a complete one is never touched.
 * Same parameters as SQL_FINDING_INSERT. */
#define SQL_FINDING_COMPLETE \
    "UPDATE findings SET ts = ?1, ts_known = ?2, read_ts = ?3, host = ?4, path = ?6," \
    " rule = ?8, category = ?9, severity = ?10, level = ?11, message = ?12, partial = ?13," \
    " target = ?14, code = ?15" \
    " WHERE file_id = ?5 AND offset = ?7 AND partial = 1"

#define SQL_RULE_UPSERT \
    "INSERT INTO rules (id, category, severity, cause, remedy, pattern, updated)" \
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)" \
    " ON CONFLICT(id) DO UPDATE SET category = excluded.category," \
    " severity = excluded.severity, cause = excluded.cause, remedy = excluded.remedy," \
    " pattern = excluded.pattern, updated = excluded.updated"

/* ?1 since, ?2 until, ?3 category (NULL = any). */
#define SQL_FILTER \
    " WHERE f.ts >= ?1 AND f.ts <= ?2 AND (?3 IS NULL OR f.category = ?3)"

#define SQL_COUNT_BY_CATEGORY \
    "SELECT f.category, count(*), min(f.ts), max(f.ts) FROM findings f" SQL_FILTER \
    " GROUP BY f.category ORDER BY max(f.ts) DESC, f.category"

#define SQL_COUNT_BY_RULE \
    "SELECT f.rule, f.category, count(*), min(f.ts), max(f.ts)," \
    " coalesce(r.cause, ''), coalesce(r.remedy, '')" \
    " FROM findings f LEFT JOIN rules r ON r.id = f.rule" SQL_FILTER \
    " GROUP BY f.rule, f.category ORDER BY max(f.ts) DESC, f.rule"

#endif

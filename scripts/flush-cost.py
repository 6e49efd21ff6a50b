#!/usr/bin/env python3
"""What SQLite alone spends per link in the activity flush, for each way of writing it (issue #18).

Usage: scripts/flush-cost.py AUTHORITYD [VARIANT ...]

Starts AUTHORITYD once on a state directory of its own to get a database with every migration,
stops it, then for each VARIANT copies that database, adds 80,000 link records and their `issued`
events, and flushes the first use of 20,000 of them (in issue order, writes of 1,000 links,
statements of 500, WAL, synchronous=FULL, the writer's 32 MiB cache and temp_store=MEMORY).
Prints this process's CPU and the wall time per flushed link. Python's own binding is in every
figure alike: compare the variants with each other, not with the daemon.

Variants (default: all):
  daemon     the daemon's three statements since migration 0008 (SQLiteStore.recordActivity; the
             refusal columns left out, this flush has none): the records found once by link id
             into temp.activity_flush, then INSERT INTO link_event ... SELECT joined on the rowid,
             then an upsert of link_activity from the temporary table
  in-record  0007's two statements, the activity in link_record's own columns (added back to the
             copy): UPDATE link_record ... FROM a VALUES list of link ids, then the events joined
             on the link id
  by-rowid   the same writes, by the record's rowid (as if the daemon remembered it)
  apart      the activity in link_activity, by the record's rowid (as if the daemon remembered
             it): the events joined on the rowid, then the upsert from a VALUES list
"""
import os, shutil, sqlite3, subprocess, sys, tempfile, time

LINKS, FLUSHED, WRITE, STATEMENT = 80_000, 20_000, 1_000, 500

def marks(rows, columns):
    return ", ".join(["(" + ", ".join("?" * columns) + ")"] * rows)

def migrated_database(authorityd, directory):
    state = os.path.join(directory, "state")
    daemon = subprocess.Popen([authorityd, "--state-dir", state, "--socket", os.path.join(directory, "a.sock")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    path = os.path.join(state, "authority.sqlite")
    for _ in range(100):
        if os.path.exists(os.path.join(directory, "a.sock")):
            break
        time.sleep(0.1)
    else:
        daemon.kill()
        sys.exit(f"flush-cost: {authorityd} did not open its socket within 10 s")
    daemon.terminate()
    daemon.wait(30)
    return path

def prepared(source, path, variant):
    copy = sqlite3.connect(path)
    original = sqlite3.connect(source)
    original.backup(copy)
    original.close()
    for pragma in ("journal_mode = WAL", "synchronous = FULL", "cache_size = -32768", "temp_store = MEMORY"):
        copy.execute("PRAGMA " + pragma)
    if variant in ("in-record", "by-rowid"):
        for column in ("first_used_at INTEGER", "last_used_at INTEGER", "uses_seen INTEGER NOT NULL DEFAULT 0",
                       "last_refused TEXT", "last_refused_at INTEGER"):
            copy.execute("ALTER TABLE link_record ADD COLUMN " + column)
    copy.execute("""CREATE TEMP TABLE activity_flush (position INTEGER PRIMARY KEY, record INTEGER NOT NULL,
        first INTEGER, last INTEGER, allowed INTEGER NOT NULL, refused TEXT, refused_at INTEGER)""")
    now = int(time.time())
    ids = [os.urandom(16) for _ in range(LINKS)]
    with copy:
        copy.executemany(
            "INSERT INTO link_record (link_id, epoch, issued_at, expires_at, resource, is_prefix, methods, password, cookie, issuer_uid)"
            " VALUES (?, 1, ?, ?, ?, 0, 'GET,HEAD', 0, 0, 0)",
            [(ids[i], now, now + 3600, f"/bench/u/{i}") for i in range(LINKS)])
        copy.executemany("INSERT INTO link_event (at, kind, link_id, resource, issuer_uid) VALUES (?, 'issued', ?, ?, 0)",
                         [(now, ids[i], f"/bench/u/{i}") for i in range(LINKS)])
    rowids = dict(copy.execute("SELECT link_id, record FROM link_record"))
    copy.isolation_level = None
    return copy, ids[20_000:20_000 + FLUSHED], rowids, now

UPSERT_APART = """ON CONFLICT (record) DO UPDATE SET last_used_at = max(last_used_at, excluded.last_used_at),
    uses_seen = uses_seen + excluded.uses_seen"""

def flush(variant, db, chunk, rowids, now):
    n = len(chunk)
    if variant == "daemon":
        db.execute("DELETE FROM temp.activity_flush")
        db.execute(f"""INSERT INTO temp.activity_flush (position, record, first, last, allowed)
            SELECT v.column1, r.record, v.column3, v.column4, v.column5 FROM (VALUES {marks(n, 5)}) AS v JOIN link_record AS r ON r.link_id = v.column2""",
                   [v for p, i in enumerate(chunk) for v in (p, i, now, now, 1)])
        db.execute("""INSERT INTO link_event (at, kind, link_id, resource, issuer_uid, ref)
            SELECT s.first, 'first_used', r.link_id, r.resource, r.issuer_uid, r.ref FROM temp.activity_flush AS s JOIN link_record AS r ON r.record = s.record
            WHERE s.first IS NOT NULL AND r.max_uses IS NULL
            AND NOT EXISTS (SELECT 1 FROM link_activity AS a WHERE a.record = s.record AND a.first_used_at IS NOT NULL)
            ORDER BY s.position""")
        db.execute("INSERT INTO link_activity (record, first_used_at, last_used_at, uses_seen) SELECT record, first, last, allowed FROM temp.activity_flush WHERE true "
                   + UPSERT_APART)
    elif variant == "in-record":
        db.execute(f"""WITH seen (id, first, last, allowed) AS (VALUES {marks(n, 4)})
            UPDATE link_record SET first_used_at = coalesce(first_used_at, seen.first), last_used_at = seen.last,
            uses_seen = uses_seen + seen.allowed FROM seen WHERE link_record.link_id = seen.id""",
                   [v for i in chunk for v in (i, now, now, 1)])
        db.execute(f"""WITH used (id, first, allowed) AS (VALUES {marks(n, 3)})
            INSERT INTO link_event (at, kind, link_id, resource, issuer_uid, ref)
            SELECT used.first, 'first_used', r.link_id, r.resource, r.issuer_uid, r.ref FROM used JOIN link_record AS r ON r.link_id = used.id
            WHERE r.uses_seen = used.allowed AND r.max_uses IS NULL ORDER BY used.first, used.id""",
                   [v for i in chunk for v in (i, now, 1)])
    elif variant == "by-rowid":
        db.execute(f"""WITH seen (rec, first, last, allowed) AS (VALUES {marks(n, 4)})
            UPDATE link_record SET first_used_at = coalesce(first_used_at, seen.first), last_used_at = seen.last,
            uses_seen = uses_seen + seen.allowed FROM seen WHERE link_record.record = seen.rec""",
                   [v for i in chunk for v in (rowids[i], now, now, 1)])
        db.execute(f"""WITH used (rec, first) AS (VALUES {marks(n, 2)})
            INSERT INTO link_event (at, kind, link_id, resource, issuer_uid, ref)
            SELECT used.first, 'first_used', r.link_id, r.resource, r.issuer_uid, r.ref FROM used JOIN link_record AS r ON r.record = used.rec""",
                   [v for i in chunk for v in (rowids[i], now)])
    elif variant == "apart":
        db.execute(f"""WITH used (rec, first) AS (VALUES {marks(n, 2)})
            INSERT INTO link_event (at, kind, link_id, resource, issuer_uid, ref)
            SELECT used.first, 'first_used', r.link_id, r.resource, r.issuer_uid, r.ref FROM used JOIN link_record AS r ON r.record = used.rec
            WHERE r.max_uses IS NULL AND NOT EXISTS (SELECT 1 FROM link_activity AS a WHERE a.record = used.rec AND a.first_used_at IS NOT NULL)""",
                   [v for i in chunk for v in (rowids[i], now)])
        db.execute(f"INSERT INTO link_activity (record, first_used_at, last_used_at, uses_seen) VALUES {marks(n, 4)} " + UPSERT_APART,
                   [v for i in chunk for v in (rowids[i], now, now, 1)])
    else:
        sys.exit(f"flush-cost: unknown variant {variant!r}")

def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__.strip().splitlines()[2])
    variants = sys.argv[2:] or ["daemon", "in-record", "by-rowid", "apart"]
    directory = tempfile.mkdtemp(prefix="flush-cost-")
    try:
        source = migrated_database(sys.argv[1], directory)
        for index, variant in enumerate(variants):
            db, flushed, rowids, now = prepared(source, os.path.join(directory, f"{index}.sqlite"), variant)
            cpu, wall = time.process_time(), time.time()
            for write in range(0, FLUSHED, WRITE):
                db.execute("BEGIN IMMEDIATE")
                for start in range(write, write + WRITE, STATEMENT):
                    flush(variant, db, flushed[start:start + STATEMENT], rowids, now)
                db.execute("COMMIT")
            cpu, wall = time.process_time() - cpu, time.time() - wall
            print(f"{variant:12} {cpu / FLUSHED * 1e6:5.2f} µs CPU, {wall / FLUSHED * 1e6:5.2f} µs wall per flushed link")
            db.close()
    finally:
        shutil.rmtree(directory)

main()

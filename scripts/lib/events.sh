# Sourced by scripts/plans and scripts/bench: seeds a migrated database with N events straight in
# SQL, and prints the area search exactly as the store sends it.
#
# The data: N events in 500 groups (one in ten private), spread over Great Britain (latitude 50-58,
# longitude -5 to 1.5) and two years from 2026-01-01; one in ten a weekly series listed for a
# year (52 occurrences; the fourth cancelled), the rest single: about 6.1 occurrences per event.
# Every row is one the service can read (details as the store writes them), and the area columns
# are computed as crates/scaffold-store/src/area.rs does. The series are marked listed to 2100, so
# that the listing job of a server started on the data leaves them as seeded.

DETAILS='{"summary":"Tea and a chat","accessibility":[],"booking":"drop-in","exdates":[]}'

# seed_events_postgres URL N
seed_events_postgres() {
  psql -qAt "$1" <<SQL
select setseed(0.42);
insert into community_group (group_id, slug, name, sort_name, search_text, summary, kind, categories, links,
    visibility, join_policy, guidelines_text, identifiers, status, version, created_at, updated_at)
select gen_random_uuid(), 'g' || i, 'Group ' || i, 'group ' || i, 'group ' || i, 'A group', 'community', '',
    '[]', case when i % 10 = 0 then 'private' else 'public' end, 'open', '', '[]', 'active', 1, now(), now()
from generate_series(1, 500) i;
create temp table g as select group_id, row_number() over (order by group_id) as n from community_group;
insert into event (event_id, group_id, title, start_at, timezone, start_local, end_local, all_day, status,
    recurrence_rule, outcode, latitude, longitude, categories, details, version, created_at, updated_at,
    search_text, features, open_active, published_ever, modified, listed_until)
select gen_random_uuid(), g.group_id, 'Event ' || i, ts, 'Europe/London', to_char(ts, 'YYYY-MM-DD"T"HH24:MI:SS'),
    to_char(ts + interval '2 hours', 'YYYY-MM-DD"T"HH24:MI:SS'), false, 'scheduled',
    case when i % 10 = 0 then 'FREQ=WEEKLY' end, null, lat, lon, 'sport-physical-activity', '$DETAILS', 1, now(), now(),
    'event ' || i || case when i % 7 = 0 then ' walking football' else ' coffee morning' end,
    case when i % 3 = 0 then ' step-free ' else ' ' end, i % 4 = 0, i % 4 = 0, i, timestamptz '2100-01-01'
from (select i, timestamptz '2026-01-01' + random() * interval '730 days' as ts, 50 + random() * 8 as lat,
             -5 + random() * 6.5 as lon from generate_series(1, $2) i) s
join g on g.n = 1 + s.i % 500;
insert into occurrence (event_id, local_start, group_id, start_at, end_at, status, reason, place, latitude,
    longitude, cell_tenth, cell_degree, unit_x, unit_y, unit_z, open_active, published_ever, deleted, modified,
    updated_at)
select e.event_id, to_char(e.start_at + w * interval '7 days', 'YYYY-MM-DD"T"HH24:MI:SS'), e.group_id,
    e.start_at + w * interval '7 days', e.start_at + w * interval '7 days' + interval '2 hours',
    case when w = 3 then 'cancelled' else 'scheduled' end, null, null, e.latitude, e.longitude,
    floor(e.latitude * 10) * 4000 + floor(e.longitude * 10), floor(e.latitude) * 4000 + floor(e.longitude),
    cos(radians(e.latitude)) * cos(radians(e.longitude)), cos(radians(e.latitude)) * sin(radians(e.longitude)),
    sin(radians(e.latitude)), e.open_active, e.published_ever, false, e.modified, now()
from event e cross join lateral generate_series(0, case when e.recurrence_rule is null then 0 else 51 end) w;
update feed_clock set value = $2;
vacuum analyze;
SQL
}

# seed_events_sqlite PATH N
seed_events_sqlite() {
  python3 - "$1" "$2" "$DETAILS" <<'PY'
import math, random, sqlite3, sys, uuid
from datetime import datetime, timedelta, timezone
db = sqlite3.connect(sys.argv[1])
n, details = int(sys.argv[2]), sys.argv[3]
rnd = random.Random(42)
groups = [uuid.UUID(int=rnd.getrandbits(128)).bytes for _ in range(500)]
db.executemany(
    "insert into community_group (group_id, slug, name, sort_name, search_text, summary, kind, categories, links,"
    " visibility, join_policy, guidelines_text, identifiers, status, version, created_at, updated_at)"
    " values (?, ?, ?, ?, ?, 'A group', 'community', '', '[]', ?, 'open', '', '[]', 'active', 1, 0, 0)",
    [(g, f"g{i}", f"Group {i}", f"group {i}", f"group {i}", "private" if i % 10 == 0 else "public")
     for i, g in enumerate(groups, 1)])
epoch = datetime(2026, 1, 1, tzinfo=timezone.utc)
us = lambda t: int(t.timestamp()) * 1_000_000
def batches():
    events, occurrences = [], []
    for i in range(1, n + 1):
        eid = uuid.UUID(int=rnd.getrandbits(128)).bytes
        ts = epoch + timedelta(seconds=rnd.randrange(730 * 86400))
        lat, lon = 50 + rnd.random() * 8, -5 + rnd.random() * 6.5
        series = i % 10 == 0
        g = groups[i % 500]
        events.append((eid, g, f"Event {i}", us(ts), ts.strftime("%Y-%m-%dT%H:%M:%S"),
                       (ts + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S"), "FREQ=WEEKLY" if series else None,
                       lat, lon, details, f"event {i}" + (" walking football" if i % 7 == 0 else " coffee morning"),
                       " step-free " if i % 3 == 0 else " ", int(i % 4 == 0), int(i % 4 == 0), i,
                       us(datetime(2100, 1, 1, tzinfo=timezone.utc))))
        unit = (math.cos(math.radians(lat)) * math.cos(math.radians(lon)),
                math.cos(math.radians(lat)) * math.sin(math.radians(lon)), math.sin(math.radians(lat)))
        for w in range(52 if series else 1):
            s = ts + timedelta(days=7 * w)
            occurrences.append((eid, s.strftime("%Y-%m-%dT%H:%M:%S"), g, us(s), us(s + timedelta(hours=2)),
                                "cancelled" if w == 3 else "scheduled", lat, lon,
                                math.floor(lat * 10) * 4000 + math.floor(lon * 10),
                                math.floor(lat) * 4000 + math.floor(lon), *unit, int(i % 4 == 0), int(i % 4 == 0), i))
        if len(events) == 50_000 or i == n:
            yield events, occurrences
            events, occurrences = [], []
total = 0
for events, occurrences in batches():
    db.executemany(
        "insert into event (event_id, group_id, title, start_at, timezone, start_local, end_local, all_day, status,"
        " recurrence_rule, outcode, latitude, longitude, categories, details, version, created_at, updated_at,"
        " search_text, features, open_active, published_ever, modified, listed_until)"
        " values (?, ?, ?, ?, 'Europe/London', ?, ?, 0, 'scheduled', ?, null, ?, ?, 'sport-physical-activity', ?,"
        " 1, 0, 0, ?, ?, ?, ?, ?, ?)", events)
    db.executemany(
        "insert into occurrence (event_id, local_start, group_id, start_at, end_at, status, reason, place, latitude,"
        " longitude, cell_tenth, cell_degree, unit_x, unit_y, unit_z, open_active, published_ever, deleted, modified,"
        " updated_at) values (?, ?, ?, ?, ?, ?, null, null, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, 0)", occurrences)
    total += len(occurrences)
db.execute("update feed_clock set value = ?", (n,))
db.commit()
db.execute("analyze")
db.close()
print(f"{n} events, {total} occurrences", file=sys.stderr)
PY
}

# area_search LAT LON RADIUS_KM FROM TO [EXTRA_WHERE] [COLUMNS]: prints "sqlite sql|postgres sql"
# for the search of occurrences within the circle starting in [FROM, TO) (RFC 3339, UTC), a page
# of 20 (the store is asked for 21): one statement per cell the circle reaches, each in start
# order and limited to the page, merged by start; a circle too large for the grids reads the
# start-time index. The same SQL as crates/scaffold-store-sql/src/sql/events.rs (push_search).
area_search() {
  python3 - "$@" <<'PY'
import math, sys
from datetime import datetime
lat, lon, r = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
frm, to = (datetime.fromisoformat(t.replace("Z", "+00:00")) for t in sys.argv[4:6])
extra = sys.argv[6] if len(sys.argv) > 6 else ""
cols = sys.argv[7] if len(sys.argv) > 7 else "e.event_id, o.local_start as o_local_start, o.start_at as o_start_at"
R, KM = 6371.0088, 111.195
def dist(a, b):
    p1, p2 = math.radians(lat), math.radians(a)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b - lon) / 2) ** 2
    return 2 * R * math.asin(min(1, math.sqrt(h)))
dlat = r / KM
s, n = max(lat - dlat, -90), min(lat + dlat, 90)
dlon = min(r / (KM * math.cos(math.radians(max(abs(s), abs(n))))), 180)
w, e = lon - dlon, lon + dlon
def cover(per):
    r0, r1 = math.floor(s * per), math.floor(n * per)
    c0, c1 = math.floor(max(w, -180) * per), math.floor(min(e, 180) * per)
    if (r1 - r0 + 1) * (c1 - c0 + 1) > 64:
        return None
    cells = [row * 4000 + col for row in range(r0, r1 + 1) for col in range(c0, c1 + 1)
             if dist(min(max(lat, row / per), (row + 1) / per), min(max(lon, col / per), (col + 1) / per)) <= r + 0.5]
    return cells if len(cells) <= 12 else None
grid = next(((col, c) for col, per in (("o.cell_tenth", 10), ("o.cell_degree", 1)) if (c := cover(per)) is not None), None)
c = [math.cos(math.radians(lat)) * math.cos(math.radians(lon)), math.cos(math.radians(lat)) * math.sin(math.radians(lon)),
     math.sin(math.radians(lat))]
circle = (f"o.latitude between {s!r} and {n!r} and o.longitude between {w!r} and {e!r} and "
          f"o.unit_x * {c[0]!r} + o.unit_y * {c[1]!r} + o.unit_z * {c[2]!r} >= {math.cos(r / R)!r}")
def one(f, t, cell):
    where = f" and {grid[0]} = {cell}" if cell is not None else ""
    return (f"select {cols} from occurrence o"
            f" join event e on e.event_id = o.event_id where not o.deleted and o.status <> 'cancelled'{where}"
            f" and o.start_at >= {f} and o.start_at < {t} and (select g.status = 'active' and"
            " (g.visibility = 'public') from community_group g where g.group_id = o.group_id)"
            f" and {circle}{extra} order by o.start_at, o.event_id, o.local_start limit 21")
def sql(f, t):
    if grid is None:
        return one(f, t, None)
    return (" union all ".join(f"select * from ({one(f, t, cell)}) c{i}" for i, cell in enumerate(grid[1]))
            + " order by o_start_at, event_id, o_local_start limit 21")
us = lambda d: int(d.timestamp()) * 1_000_000
pg = lambda d: "'" + d.strftime("%Y-%m-%d %H:%M:%S+00") + "'"
print(sql(us(frm), us(to)) + "|" + sql(pg(frm), pg(to)))
PY
}

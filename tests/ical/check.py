"""Parses an iCalendar file with the independent `icalendar` library and prints what it read as
JSON, for the Rust feed tests to compare with what they wrote. Usage: check.py FILE"""
import json
import sys

import icalendar

with open(sys.argv[1], "rb") as f:
    cal = icalendar.Calendar.from_ical(f.read())

events = []
for c in cal.walk("VEVENT"):
    start = c.decoded("DTSTART")
    rid = c.get("RECURRENCE-ID")
    events.append({
        "uid": str(c.get("UID")),
        "summary": str(c.get("SUMMARY")),
        "status": str(c.get("STATUS")),
        "start": start.isoformat(),
        "tzid": str(getattr(start, "tzinfo", None) and c["DTSTART"].params.get("TZID")),
        "rrule": c["RRULE"].to_ical().decode() if "RRULE" in c else None,
        "exdates": [d.dt.isoformat() for x in (c.get("EXDATE") if isinstance(c.get("EXDATE"), list) else [c.get("EXDATE")]) if x is not None for d in x.dts],
        "recurrence_id": c.decoded("RECURRENCE-ID").isoformat() if rid is not None else None,
        "location": str(c.get("LOCATION")) if "LOCATION" in c else None,
    })
zones = [str(z.get("TZID")) for z in cal.walk("VTIMEZONE")]
print(json.dumps({"prodid": str(cal.get("PRODID")), "version": str(cal.get("VERSION")), "zones": zones, "events": events}))

"""Writes a council's events calendar with PyPI `icalendar` (an independent generator), for the
source import tests (crates/scaffold-server/tests/it/sources.rs).

    make_source.py v1|v2|many

v1: a weekly series in Europe/London with an excluded date, a cancelled date and a moved date;
    a one-off with a postcode in its LOCATION and a URL; an all-day fair; an event whose RRULE
    is invalid (skipped and reported).
v2: as v1, with the one-off renamed and the all-day fair gone.
many: 10,000 one-off events.
"""

import sys
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vRecur

LONDON = ZoneInfo("Europe/London")


def calendar():
    cal = Calendar()
    cal.add("prodid", "-//Council//Events test//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Council events")
    return cal


def event(uid, summary, start, end, **extra):
    e = Event()
    e.add("uid", uid)
    e.add("dtstamp", datetime(2027, 1, 1, 9, 0, tzinfo=ZoneInfo("UTC")))
    e.add("summary", summary)
    e.add("dtstart", start)
    e.add("dtend", end)
    for k, v in extra.items():
        e.add(k.replace("_", "-"), v)
    return e


def main(version):
    cal = calendar()
    if version == "many":
        for n in range(10_000):
            start = datetime(2027, 2, 1, 10, 0, tzinfo=LONDON) + timedelta(hours=n)
            cal.add_component(event(f"many-{n}@council.example", f"Session {n}", start, start + timedelta(hours=1)))
        sys.stdout.write(cal.to_ical().decode("utf-8"))
        return
    start = datetime(2027, 1, 5, 10, 0, tzinfo=LONDON)
    series = event(
        "tea-party@council.example",
        "TechMates tea party",
        start,
        start + timedelta(hours=2),
        description="Help with phones and tablets.\nBring your charger.",
        location="Wigan Library, Believe Square, Wigan WN1 1NS",
        rrule=vRecur({"FREQ": "WEEKLY", "BYDAY": "TU", "COUNT": 20}),
    )
    series.add("exdate", datetime(2027, 1, 12, 10, 0, tzinfo=LONDON))
    cal.add_component(series)
    cancelled = event(
        "tea-party@council.example",
        "TechMates tea party",
        datetime(2027, 1, 19, 10, 0, tzinfo=LONDON),
        datetime(2027, 1, 19, 12, 0, tzinfo=LONDON),
        status="CANCELLED",
    )
    cancelled.add("recurrence-id", datetime(2027, 1, 19, 10, 0, tzinfo=LONDON))
    cal.add_component(cancelled)
    moved = event(
        "tea-party@council.example",
        "TechMates tea party",
        datetime(2027, 1, 26, 14, 0, tzinfo=LONDON),
        datetime(2027, 1, 26, 16, 0, tzinfo=LONDON),
    )
    moved.add("recurrence-id", datetime(2027, 1, 26, 10, 0, tzinfo=LONDON))
    cal.add_component(moved)
    title = "Digital skills drop-in" if version == "v1" else "Digital skills drop-in (now upstairs)"
    cal.add_component(
        event(
            "drop-in@council.example",
            title,
            datetime(2027, 1, 7, 9, 0, tzinfo=ZoneInfo("UTC")),
            datetime(2027, 1, 7, 11, 0, tzinfo=ZoneInfo("UTC")),
            location="Leigh Library, Turnpike Centre, Leigh WN7 1EB",
            url="https://council.example/events/drop-in",
        )
    )
    if version == "v1":
        cal.add_component(event("fair@council.example", "Community fair", date(2027, 3, 6), date(2027, 3, 8)))
    broken = event(
        "broken@council.example",
        "Broken rule",
        datetime(2027, 1, 8, 10, 0, tzinfo=LONDON),
        datetime(2027, 1, 8, 11, 0, tzinfo=LONDON),
    )
    broken.add("rrule", vRecur({"FREQ": "WEEKLY"}))
    text = cal.to_ical().decode("utf-8")
    broken_text = broken.to_ical().decode("utf-8").replace("RRULE:FREQ=WEEKLY", "RRULE:FREQ=SOMETIMES;BYDAY=XX")
    text = text.replace("END:VCALENDAR", broken_text + "END:VCALENDAR")
    sys.stdout.write(text)


if __name__ == "__main__":
    main(sys.argv[1])

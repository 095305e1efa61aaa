//! Time without a date library: the server's RFC 3339 timestamps as milliseconds, and the
//! calendar arithmetic the history groups and labels need. Pure, so it is tested natively; the
//! browser supplies only "now" and the time-zone offset at an instant.

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

const MS_PER_DAY: i64 = 86_400_000;

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, the only shape the server sends.
pub fn parse_rfc3339(s: &str) -> Option<Millis> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = s.get(from..from + len)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if b[13] != b':' || b[16] != b':' || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut i = 19;
    let mut millis = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let digits = &s[start..i];
        if digits.is_empty() {
            return None;
        }
        let first3: String = digits.chars().chain("000".chars()).take(3).collect();
        millis = first3.parse().ok()?;
    }
    let offset_minutes = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let minutes = num(i + 1, 2)? * 60 + num(i + 4, 2)?;
            if *sign == b'+' { minutes } else { -minutes }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    Some(days * MS_PER_DAY + ((hour * 60 + minute - offset_minutes) * 60 + second) * 1000 + millis)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number: `(year, month 1-12, day 1-31)`.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The local calendar day of an instant, given the zone's offset at that instant in
/// JavaScript's convention (`Date.getTimezoneOffset()`: minutes *behind* UTC, so UTC+2 is -120).
pub fn local_day(at: Millis, js_offset_minutes: i64) -> i64 {
    (at - js_offset_minutes * 60_000).div_euclid(MS_PER_DAY)
}

/// `HH:MM` of an instant in local time.
pub fn local_clock(at: Millis, js_offset_minutes: i64) -> String {
    let minutes = (at - js_offset_minutes * 60_000).div_euclid(60_000);
    let of_day = minutes.rem_euclid(24 * 60);
    format!("{:02}:{:02}", of_day / 60, of_day % 60)
}

pub const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A short human date: "Today 14:05", "Yesterday 09:12", "3 Nov 2026 18:00".
pub fn describe(at: Millis, at_offset: i64, now: Millis, now_offset: i64) -> String {
    let day = local_day(at, at_offset);
    let today = local_day(now, now_offset);
    let clock = local_clock(at, at_offset);
    match today - day {
        0 => format!("Today {clock}"),
        1 => format!("Yesterday {clock}"),
        _ => {
            let (y, m, d) = civil_from_days(day);
            let month = &MONTHS[(m - 1) as usize][..3];
            format!("{d} {month} {y} {clock}")
        }
    }
}

/// Now and offsets, from the browser (native test builds compile it but never call it).
pub mod browser {
    use super::Millis;

    pub fn now() -> Millis {
        js_sys::Date::now() as Millis
    }

    /// The zone's offset at that instant (it differs across a daylight-saving change).
    pub fn offset_at(at: Millis) -> i64 {
        js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at as f64)).get_timezone_offset() as i64
    }

    /// A server timestamp as people read it ("Today 14:05", "3 Nov 2026 18:00").
    pub fn short_date(rfc3339: &str) -> String {
        let Some(at) = super::parse_rfc3339(rfc3339) else {
            return String::new();
        };
        let now = now();
        super::describe(at, offset_at(at), now, offset_at(now))
    }

    /// An RFC 3339 string for "now", in the server's shape.
    pub fn now_rfc3339() -> String {
        String::from(js_sys::Date::new_0().to_iso_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_servers_timestamps_with_any_fraction_and_offset() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:01.5Z"), Some(1500));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:01.123456Z"), Some(1123));
        assert_eq!(parse_rfc3339("1970-01-01T02:00:00+02:00"), Some(0));
        assert_eq!(parse_rfc3339("1969-12-31T19:00:00-05:00"), Some(0));
        assert_eq!(
            parse_rfc3339("2026-11-27T03:10:44.169Z"),
            Some(1_795_749_044_169)
        );
    }

    #[test]
    fn rejects_what_is_not_a_timestamp() {
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-11-27T03:10:44",
            "2026-11-27T03:10:44.Z",
            "2026-11-27T03:10:44Zjunk",
            "2026-11-27T03:1x:44Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn civil_dates_round_trip_across_leap_years_and_eras() {
        for days in [-800_000, -1, 0, 1, 11_016, 20_000, 20_513, 100_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, i64::from(m), i64::from(d)), days);
        }
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
    }

    #[test]
    fn the_local_day_depends_on_the_zone() {
        let at = parse_rfc3339("2026-12-01T23:30:00Z").unwrap();
        let utc = local_day(at, 0);
        // Berlin (UTC+1) is already on 2 December; New York (UTC-5) is still on 1 December.
        assert_eq!(local_day(at, -60), utc + 1);
        assert_eq!(local_day(at, 300), utc);
        assert_eq!(local_clock(at, -60), "00:30");
    }

    #[test]
    fn describes_recent_and_older_dates() {
        let now = parse_rfc3339("2026-12-01T12:00:00Z").unwrap();
        let earlier = parse_rfc3339("2026-12-01T08:05:00Z").unwrap();
        let yesterday = parse_rfc3339("2026-11-30T22:00:00Z").unwrap();
        let old = parse_rfc3339("2026-11-03T18:00:00Z").unwrap();
        assert_eq!(describe(earlier, 0, now, 0), "Today 08:05");
        assert_eq!(describe(yesterday, 0, now, 0), "Yesterday 22:00");
        assert_eq!(describe(old, 0, now, 0), "3 Nov 2026 18:00");
    }
}

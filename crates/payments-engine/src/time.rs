//! Time as the payments tables store it (Unix milliseconds) and as the API shows it
//! (`YYYY-MM-DDTHH:MM:SS.mmmZ`, what JavaScript's `Date.toISOString()` prints).

use std::time::{SystemTime, UNIX_EPOCH};

use payments_model::calendar::{date_and_seconds, days_from_civil};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Formats Unix milliseconds as an ISO-8601 UTC string with millisecond precision. (Beyond
/// ±999,999 years, where no calendar reaches and no stored time lies, the plain number.)
pub fn iso_ms(ms: i64) -> String {
    let millis = ms.rem_euclid(1000);
    match date_and_seconds(ms.div_euclid(1000)) {
        Some(((y, m, d), sod)) => {
            format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z", sod / 3600, sod % 3600 / 60, sod % 60)
        }
        None => ms.to_string(),
    }
}

/// [`iso_ms`] for nullable columns.
pub fn iso_opt(ms: Option<i64>) -> Option<String> {
    ms.map(iso_ms)
}

/// The range of JavaScript's `Date` (±10⁸ days around the epoch), in milliseconds: the widest
/// instant the API accepts as Unix milliseconds.
pub const MAX_ABS_MS: i64 = 8_640_000_000_000_000;

/// Parses a date filter (`from`, `to`) to Unix milliseconds: `YYYY-MM-DD` (midnight UTC),
/// `YYYY-MM-DDTHH:MM[:SS[.f…]]Z` (what [`iso_ms`] prints; digits past milliseconds are
/// dropped), or an integer of Unix milliseconds within [`MAX_ABS_MS`].
///
/// `None` for anything else, including impossible dates (`2026-02-30`, `24:00`) and years
/// outside 0000–9999. The input is caller-controlled, so every field is range-checked before
/// any arithmetic: no value can overflow (which panics in debug builds).
pub fn parse_time(s: &str) -> Option<i64> {
    if let Ok(ms) = s.parse::<i64>() {
        return (-MAX_ABS_MS..=MAX_ABS_MS).contains(&ms).then_some(ms);
    }
    let (date, time) = match s.split_once('T') {
        Some((date, time)) => (date, Some(time.strip_suffix('Z')?)),
        None => (s, None),
    };
    let mut d = date.split('-');
    let (y, m, day) = (digits(d.next()?, 4)?, digits(d.next()?, 2)?, digits(d.next()?, 2)?);
    if d.next().is_some() {
        return None;
    }
    // `None` for a date that does not exist (`2026-02-29`, month 13, day 0).
    let days = days_from_civil(y, u32::try_from(m).ok()?, u32::try_from(day).ok()?)?;
    let mut ms_of_day = 0;
    if let Some(time) = time {
        let mut t = time.split(':');
        let (h, mi) = (digits(t.next()?, 2)?, digits(t.next()?, 2)?);
        let (sec, millis) = match t.next() {
            None => (0, 0),
            Some(sec) => match sec.split_once('.') {
                None => (digits(sec, 2)?, 0),
                Some((whole, frac)) => (digits(whole, 2)?, fraction_ms(frac)?),
            },
        };
        if t.next().is_some() || h > 23 || mi > 59 || sec > 59 {
            return None;
        }
        ms_of_day = ((h * 60 + mi) * 60 + sec) * 1000 + millis;
    }
    // |days| < 3·10⁶ for years 0000–9999, so this cannot overflow.
    Some(days * 86_400_000 + ms_of_day)
}

/// Exactly `len` ASCII digits (no sign, no spaces) as a number.
fn digits(s: &str, len: usize) -> Option<i64> {
    (s.len() == len && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

/// A fraction of a second (`5`, `123`, `123456789`) in whole milliseconds.
fn fraction_ms(frac: &str) -> Option<i64> {
    if frac.is_empty() || frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ms = &frac[..frac.len().min(3)];
    Some(ms.parse::<i64>().ok()? * 10_i64.pow(3 - ms.len() as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_to_iso_string() {
        assert_eq!(iso_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_ms(1_778_625_667_123), "2026-05-12T22:41:07.123Z");
        // Leap day and end of a leap year.
        assert_eq!(iso_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso_ms(1_735_689_599_999), "2024-12-31T23:59:59.999Z");
        assert_eq!(iso_ms(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(iso_opt(None), None);
    }

    #[test]
    fn parses_dates_times_and_milliseconds() {
        assert_eq!(parse_time("1970-01-01"), Some(0));
        assert_eq!(parse_time("2026-05-12T22:41:07.123Z"), Some(1_778_625_667_123));
        assert_eq!(parse_time("2026-05-12T22:41Z"), Some(1_778_625_660_000));
        assert_eq!(parse_time("2026-05-12T22:41:07Z"), Some(1_778_625_667_000));
        assert_eq!(parse_time("2026-05-12T22:41:07.1Z"), Some(1_778_625_667_100));
        assert_eq!(parse_time("2026-05-12T22:41:07.123999Z"), Some(1_778_625_667_123));
        assert_eq!(parse_time("2000-02-29"), Some(951_782_400_000));
        assert_eq!(parse_time("1969-12-31T23:59:59.999Z"), Some(-1));
        assert_eq!(parse_time("0000-01-01"), Some(-62_167_219_200_000));
        assert_eq!(parse_time("9999-12-31T23:59:59.999Z"), Some(253_402_300_799_999));
        assert_eq!(parse_time("1778625667123"), Some(1_778_625_667_123));
        assert_eq!(parse_time("-5"), Some(-5));
        assert_eq!(parse_time(&MAX_ABS_MS.to_string()), Some(MAX_ABS_MS));
    }

    #[test]
    fn absurd_dates_are_refused_without_overflow() {
        // The first ones overflowed the millisecond arithmetic (a panic in debug builds).
        for bad in [
            "99999999999-01-01",
            "9223372036854775807-12-31",
            "-9223372036854775808-01-01",
            "2026-01-01T9223372036854775807:00Z",
            "2026-01-01T00:9223372036854775807Z",
            "2026-01-01T00:00:1e300Z",
            "2026-01-01T00:00:NaNZ",
            "2026-01-01T00:00:infZ",
            "2026-01-01T-1:00Z",
            "2026-01-01T24:00Z",
            "2026-01-01T23:60Z",
            "2026-01-01T23:59:60Z",
            "2026-01-01T23:59:59.Z",
            "2026-01-01T23:59:59.1234567890Z",
            "2026-01-01T23:59Z:00",
            "2026-01-01T23:59",
            "2026-02-29",
            "2026-04-31",
            "2026-13-01",
            "2026-00-10",
            "2026-01-00",
            "+2026-01-01",
            "2026-1-1",
            "20260-01-01",
            "9223372036854775807",
            "-9223372036854775808",
            "8640000000000001",
            "yesterday",
            "",
            "T",
            "--",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }
}

//! Calendar arithmetic shared by the engine (which parses date filters and prints timestamps)
//! and the console's pages (which print them in the browser): proleptic Gregorian dates and
//! days since 1970-01-01, by the `time` crate, so that both sides agree on every date.

use time::{Date, Month};

/// The Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

/// A date to days since 1970-01-01; `None` when there is no such date (`2026-02-29`, month 13)
/// or it lies outside ±999,999 years.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> Option<i64> {
    let year = i32::try_from(year).ok()?;
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()?;
    Some(i64::from(date.to_julian_day()) - UNIX_EPOCH_JULIAN_DAY)
}

/// Days since 1970-01-01 to a date `(year, month 1–12, day 1–31)`; `None` outside ±999,999 years.
pub fn civil_from_days(days: i64) -> Option<(i64, u32, u32)> {
    let julian = i32::try_from(days.checked_add(UNIX_EPOCH_JULIAN_DAY)?).ok()?;
    let (year, month, day) = Date::from_julian_day(julian).ok()?.to_calendar_date();
    Some((i64::from(year), u32::from(u8::from(month)), u32::from(day)))
}

/// `YYYY-MM-DD` and the seconds into that day (UTC) of a time `secs` seconds after the epoch;
/// `None` outside ±999,999 years.
pub fn date_and_seconds(secs: i64) -> Option<((i64, u32, u32), i64)> {
    Some((civil_from_days(secs.div_euclid(86_400))?, secs.rem_euclid(86_400)))
}

/// The range of JavaScript's `Date` (±10⁸ days around the epoch), in milliseconds: the widest
/// instant the API accepts as Unix milliseconds.
pub const MAX_ABS_MS: i64 = 8_640_000_000_000_000;

/// Parses a date filter (`from`, `to`) to Unix milliseconds: `YYYY-MM-DD` (midnight UTC),
/// `YYYY-MM-DDTHH:MM[:SS[.f…]]Z` (what the engine prints; digits past milliseconds are
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
    fn dates_and_days_agree_both_ways() {
        assert_eq!(days_from_civil(1970, 1, 1), Some(0));
        assert_eq!(days_from_civil(2000, 2, 29), Some(11_016));
        assert_eq!(days_from_civil(1969, 12, 31), Some(-1));
        assert_eq!(days_from_civil(0, 1, 1), Some(-719_528));
        assert_eq!(civil_from_days(11_016), Some((2000, 2, 29)));
        assert_eq!(civil_from_days(-1), Some((1969, 12, 31)));
        // Every day of four centuries round-trips (leap years, century rules).
        for days in (-146_097 * 2)..(146_097 * 2) {
            let (y, m, d) = civil_from_days(days).unwrap();
            assert_eq!(days_from_civil(y, m, d), Some(days));
        }
        // JavaScript's `Date` range stays within reach.
        assert_eq!(civil_from_days(100_000_000), Some((275_760, 9, 13)));
    }

    #[test]
    fn impossible_dates_and_absurd_days_are_none() {
        for (y, m, d) in [(2026, 2, 29), (2026, 4, 31), (2026, 13, 1), (2026, 0, 10), (2026, 1, 0), (1_000_000, 1, 1)] {
            assert_eq!(days_from_civil(y, m, d), None, "{y}-{m}-{d}");
        }
        assert_eq!(days_from_civil(i64::MAX, 1, 1), None);
        assert_eq!(civil_from_days(i64::MAX), None);
        assert_eq!(civil_from_days(i64::MIN), None);
    }
}
